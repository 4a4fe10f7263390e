package dev.chainsocks.engine;

import dev.chainsocks.linux.Pipe;
import dev.chainsocks.linux.Splice;
import dev.chainsocks.linux.UnbufferedCopy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.tinylog.Logger;

/**
 * What one event loop's relays hold bytes in while they are in flight, within a fixed budget (loop thread only,
 * no locking).
 *
 * <p>A relay borrows a carrier only while it holds bytes its peer has not taken yet, so an idle connection holds
 * none: a direct buffer of {@link #bufferSize()} in {@link RelayMode#COPY} mode, a kernel {@link Pipe} of the same
 * capacity in {@link RelayMode#SPLICE} mode. At most {@link #slots()} carriers are out at once: that bounds the
 * direct memory (copy), the kernel pipe memory and the pipes' file descriptors (splice) of this loop.
 * {@link #tryTake()} and {@link #tryTakePipe()} never allocate past the budget and never throw: they answer null.
 *
 * <p>A direction that gets no carrier moves bytes {@linkplain #unbuffered() unbuffered} instead: it peeks, sends
 * what the destination takes and only then consumes it, so nothing is held and new connections keep flowing while
 * stalled readers hold the whole budget. Where that is not available (no libc), the direction
 * {@linkplain #await waits} and reads nothing; released buffers go to the waiting directions in the order they
 * started waiting.
 *
 * <p>Handshakes, which read a few bytes, use small heap buffers instead (see {@link Exchange});
 * {@link #release(ByteBuffer)} accepts and drops them.
 */
public final class BufferPool {

    /**
     * The buffer and pipe size. Measured with {@code RelayChunkSizes} (loopback, event loop CPU per GB): 16 KiB
     * costs 15-45% more than 64 KiB, 128 KiB about 30% less than 64 KiB, and beyond it the gain is small
     * while every carrier of the budget grows (and a user's pipes may take only 64 MiB before Linux shrinks them).
     */
    public static final int DEFAULT_BUFFER_SIZE = 128 * 1024;
    /** In-flight memory for all loops together when nothing is configured. */
    public static final long DEFAULT_MEMORY = 32L * 1024 * 1024;
    /** Free buffers or pipes kept for reuse; more are freed or closed. */
    private static final int MAX_IDLE = 16;
    private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();
    private static final AtomicBoolean DIRECT_LIMIT_LOGGED = new AtomicBoolean();

    private final int bufferSize;
    private final boolean unbufferedAllowed;
    private int slots;
    private RelayMode mode;
    private int inUse;
    private final ArrayDeque<ByteBuffer> freeBuffers = new ArrayDeque<>();
    private final ArrayDeque<Pipe> freePipes = new ArrayDeque<>();
    private final ArrayDeque<Consumer<ByteBuffer>> waiters = new ArrayDeque<>();
    private Executor loop = Runnable::run;
    private UnbufferedCopy unbuffered;
    private boolean unbufferedChecked;
    private long copiedBytes;
    private long splicedBytes;
    private long unbufferedBytes;
    private long pipesOpened;
    private long refusals;

    /**
     * @param mode       how relays on this loop move bytes; {@link RelayMode#SPLICE} turns into {@link RelayMode#COPY}
     *                   (logged once) where splicing cannot work
     * @param bufferSize bytes per buffer and per pipe
     * @param slots      buffers plus pipes out at once, at least 1
     */
    public BufferPool(RelayMode mode, int bufferSize, int slots) {
        this(mode, bufferSize, slots, true);
    }

    /** A copy-mode pool: for tests and for callers that never relay. */
    public BufferPool(int bufferSize, int slots) {
        this(RelayMode.COPY, bufferSize, slots);
    }

    /**
     * @param unbufferedAllowed false to leave out the unbuffered copy, as where libc is missing: a direction without
     *                          a buffer then waits for one (for tests of that path)
     */
    BufferPool(RelayMode mode, int bufferSize, int slots, boolean unbufferedAllowed) {
        if (bufferSize < 1 || slots < 1) {
            throw new IllegalArgumentException("bufferSize and slots must be positive: " + bufferSize + ", " + slots);
        }
        this.bufferSize = bufferSize;
        this.slots = slots;
        this.unbufferedAllowed = unbufferedAllowed;
        this.mode = checked(Objects.requireNonNull(mode, "mode"));
    }

    /** How many carriers a budget of {@code memoryBytes} split over {@code loops} loops allows each loop. */
    public static int slotsFor(long memoryBytes, int loops, int bufferSize) {
        return (int) Math.max(2, Math.min(Integer.MAX_VALUE, memoryBytes / bufferSize / Math.max(1, loops)));
    }

    /** Called by the loop that owns this pool: grants to waiting directions run there, on a later turn. */
    void attach(Executor owner) {
        this.loop = owner;
    }

    private static RelayMode checked(RelayMode wanted) {
        if (wanted == RelayMode.SPLICE && !Splice.available()) {
            logFallback("splice(2) is not available here (" + Splice.unavailableReason().orElse("?") + ")");
            return RelayMode.COPY;
        }
        return wanted;
    }

    private static void logFallback(String why) {
        if (FALLBACK_LOGGED.compareAndSet(false, true)) {
            Logger.warn("relay: {}; relaying with read/write copies instead", why);
        }
    }

    /** Changes mode and budget for relays started from now on (a reload); carriers out stay valid. */
    public void reconfigure(RelayMode newMode, int newSlots) {
        if (newSlots < 1) {
            throw new IllegalArgumentException("slots must be positive: " + newSlots);
        }
        this.mode = checked(newMode);
        this.slots = newSlots;
        while (!freePipes.isEmpty() && mode == RelayMode.COPY) {
            freePipes.pollFirst().close();
        }
        wakeWaiters();
    }

    public RelayMode mode() {
        return mode;
    }

    /** Splicing failed in a way that will not change ({@code EINVAL}): this loop copies from now on. */
    void fallBackToCopy(IOException cause) {
        logFallback("splice(2) failed: " + cause.getMessage());
        mode = RelayMode.COPY;
        while (!freePipes.isEmpty()) {
            freePipes.pollFirst().close();
        }
    }

    private boolean full() {
        return inUse >= slots || !waiters.isEmpty();
    }

    /** An empty buffer in write mode, or null when the budget is spent (or directions wait ahead of the caller). */
    public ByteBuffer tryTake() {
        if (full()) {
            refusals++;
            return null;
        }
        return take();
    }

    private ByteBuffer take() {
        ByteBuffer buffer = freeBuffers.pollFirst();
        if (buffer == null) {
            try {
                buffer = ByteBuffer.allocateDirect(bufferSize);
            } catch (OutOfMemoryError e) {
                // The JVM's direct memory limit is below this pool's budget: learn the real limit, never fail.
                slots = Math.max(1, inUse);
                refusals++;
                if (DIRECT_LIMIT_LOGGED.compareAndSet(false, true)) {
                    Logger.warn("relay: direct memory ran out with {} buffers of this loop in use; the relay "
                            + "memory budget is larger than -XX:MaxDirectMemorySize allows, using {} buffers",
                            inUse, slots);
                }
                return null;
            }
        }
        inUse++;
        return buffer;
    }

    /**
     * Gives a buffer back. Buffers that did not come from a pool of this size (small heap buffers that handshakes
     * use) are simply dropped, so callers may release whatever buffer they were handed.
     */
    public void release(ByteBuffer buffer) {
        if (!buffer.isDirect() || buffer.capacity() != bufferSize) {
            return;
        }
        inUse--;
        if (freeBuffers.size() < MAX_IDLE) {
            buffer.clear();
            freeBuffers.addFirst(buffer);
        }
        wakeWaiters();
    }

    /** An empty pipe, or null when the budget is spent or the kernel refused one ({@code EMFILE} and the like). */
    public Pipe tryTakePipe() {
        if (full()) {
            refusals++;
            return null;
        }
        Pipe pipe = freePipes.pollFirst();
        if (pipe == null) {
            try {
                pipe = Pipe.open(bufferSize);
                pipesOpened++;
            } catch (IOException | RuntimeException e) {
                refusals++;
                return null;
            }
        }
        inUse++;
        return pipe;
    }

    /** Gives a pipe back; one that still holds bytes is closed (they are dropped with it). */
    public void releasePipe(Pipe pipe, boolean empty) {
        inUse--;
        if (empty && mode == RelayMode.SPLICE && freePipes.size() < MAX_IDLE) {
            freePipes.addFirst(pipe);
        } else {
            pipe.close();
        }
        wakeWaiters();
    }

    /**
     * The loop's copier that holds nothing, or null where it cannot work: then a direction without a buffer must
     * {@link #await} one.
     */
    public UnbufferedCopy unbuffered() {
        if (!unbufferedChecked) {
            unbufferedChecked = true;
            if (unbufferedAllowed && Splice.available()) {
                unbuffered = UnbufferedCopy.allocate(bufferSize);
            }
        }
        return unbuffered;
    }

    /** Queues {@code grant} to receive the next buffer released, after every direction already waiting. */
    public void await(Consumer<ByteBuffer> grant) {
        waiters.addLast(grant);
        wakeWaiters();
    }

    /** Leaves the queue (a relay that ended while waiting). */
    public void cancel(Consumer<ByteBuffer> grant) {
        waiters.remove(grant);
    }

    private void wakeWaiters() {
        while (!waiters.isEmpty() && inUse < slots) {
            ByteBuffer buffer = take();
            if (buffer == null) {
                return;
            }
            Consumer<ByteBuffer> grant = waiters.pollFirst();
            loop.execute(() -> grant.accept(buffer));
        }
    }

    /** Closes the free pipes; the owning loop calls it when it stops. */
    void close() {
        while (!freePipes.isEmpty()) {
            freePipes.pollFirst().close();
        }
        freeBuffers.clear();
    }

    void countCopied(long n) {
        copiedBytes += n;
    }

    void countSpliced(long n) {
        splicedBytes += n;
    }

    void countUnbuffered(long n) {
        unbufferedBytes += n;
    }

    /** Buffers and pipes taken and not yet released; for tests and status. */
    public long outstanding() {
        return inUse;
    }

    /** The most buffers and pipes out at once. */
    public int slots() {
        return slots;
    }

    public int bufferSize() {
        return bufferSize;
    }

    /** What this loop's relays have moved so far, by way. */
    public Stats stats() {
        return new Stats(copiedBytes, splicedBytes, unbufferedBytes, pipesOpened, refusals, waiters.size());
    }

    /**
     * @param copiedBytes     delivered from buffers (copy mode, and bytes read during the handshakes)
     * @param splicedBytes    delivered from pipes
     * @param unbufferedBytes delivered without holding anything, while the budget was spent
     * @param pipesOpened     pipes opened over the pool's life
     * @param refusals        times a buffer or pipe was asked for and the budget (or the kernel) said no
     * @param waiting         directions waiting for a buffer now
     */
    public record Stats(long copiedBytes, long splicedBytes, long unbufferedBytes, long pipesOpened, long refusals,
                        int waiting) {
    }
}
