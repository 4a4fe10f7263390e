package dev.chainsocks.engine;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.tinylog.Logger;

/**
 * A few event loops (one per core by default) plus a small pool for blocking work that must stay off the loops,
 * such as DNS resolution of names that clients ask for.
 */
public final class EventLoopGroup implements AutoCloseable {

    private final List<EventLoop> loops;
    private final AtomicInteger next = new AtomicInteger();
    private final ExecutorService blocking;

    /** Loops that relay with {@code splice(2)} within {@link BufferPool#DEFAULT_MEMORY} of bytes in flight. */
    public EventLoopGroup(String prefix, int threads) {
        this(prefix, threads, RelayMode.SPLICE, BufferPool.DEFAULT_MEMORY);
    }

    /**
     * @param relayMode   how relays move bytes
     * @param relayMemory bytes in flight (buffers or pipes) for all loops together; the JVM's direct memory limit
     *                    caps it at half that limit, see {@link #relayMemoryWithin}
     */
    public EventLoopGroup(String prefix, int threads, RelayMode relayMode, long relayMemory) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1");
        }
        int slots = BufferPool.slotsFor(fittedRelayMemory(relayMemory), threads, BufferPool.DEFAULT_BUFFER_SIZE);
        List<EventLoop> created = new ArrayList<>(threads);
        for (int i = 0; i < threads; i++) {
            created.add(new EventLoop(prefix + "-loop-" + i,
                    new BufferPool(relayMode, BufferPool.DEFAULT_BUFFER_SIZE, slots)));
        }
        this.loops = List.copyOf(created);
        AtomicInteger resolverCount = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000),
                runnable -> {
                    Thread thread = new Thread(runnable, prefix + "-resolver-" + resolverCount.getAndIncrement());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
        this.blocking = pool;
    }

    /**
     * Applies a new relay mode and memory budget to relays that start from now on (a reload); relays under way
     * keep what they hold.
     */
    public void configureRelay(RelayMode relayMode, long relayMemory) {
        int slots = BufferPool.slotsFor(fittedRelayMemory(relayMemory), loops.size(), BufferPool.DEFAULT_BUFFER_SIZE);
        for (EventLoop loop : loops) {
            loop.execute(() -> loop.buffers().reconfigure(relayMode, slots));
        }
    }

    /** The configured budget, lowered to fit this JVM (and logged when it had to be). */
    private static long fittedRelayMemory(long configured) {
        long directLimit = directMemoryLimit();
        long fits = relayMemoryWithin(configured, directLimit);
        if (fits < configured) {
            Logger.warn("relay memory {} MiB is more than half of the JVM's direct memory limit ({} MiB); using {} "
                    + "MiB (raise -XX:MaxDirectMemorySize to use more)", configured >> 20, directLimit >> 20,
                    fits >> 20);
        }
        return fits;
    }

    /**
     * The relay memory budget that fits the JVM: at most half of its direct memory limit, so that copy-mode buffers
     * can never make the JVM throw (the other half stays for the JDK's own temporary direct buffers).
     */
    static long relayMemoryWithin(long configured, long directLimit) {
        return Math.min(configured, directLimit / 2);
    }

    /** {@code -XX:MaxDirectMemorySize} when given, else the JDK's default: the maximum heap size. */
    static long directMemoryLimit() {
        long limit = Runtime.getRuntime().maxMemory();
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("-XX:MaxDirectMemorySize=")) {
                long parsed = parseJvmSize(argument.substring("-XX:MaxDirectMemorySize=".length()));
                if (parsed > 0) {
                    limit = parsed;
                }
            }
        }
        return limit;
    }

    /** A JVM size flag's value: {@code 64m}, {@code 2g}, {@code 65536}; -1 when unreadable. */
    static long parseJvmSize(String value) {
        if (value.isEmpty()) {
            return -1;
        }
        char unit = Character.toLowerCase(value.charAt(value.length() - 1));
        int shift = switch (unit) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? value : value.substring(0, value.length() - 1);
        try {
            return Long.parseLong(digits) << shift;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static int defaultThreads() {
        return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 8));
    }

    /** The loop for the next connection, round robin. */
    public EventLoop next() {
        return loops.get(Math.floorMod(next.getAndIncrement(), loops.size()));
    }

    public List<EventLoop> loops() {
        return loops;
    }

    /** Where blocking work (name resolution) runs; results must be handed back with {@link EventLoop#execute}. */
    public ExecutorService blocking() {
        return blocking;
    }

    @Override
    public void close() {
        blocking.shutdownNow();
        for (EventLoop loop : loops) {
            loop.close();
        }
    }
}
