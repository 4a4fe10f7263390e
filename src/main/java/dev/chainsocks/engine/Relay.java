package dev.chainsocks.engine;

import dev.chainsocks.linux.Pipe;
import dev.chainsocks.linux.Splice;
import dev.chainsocks.linux.UnbufferedCopy;
import dev.chainsocks.syntax.DurationSyntax;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Copies bytes both ways between a client and an upstream connection on one event loop.
 *
 * <ul>
 *   <li>Backpressure: while bytes read from one side wait for the other side to take them, that side is not read.
 *   <li>Half-close: EOF from one side, once its bytes are delivered, becomes {@code shutdownOutput} on the other;
 *       both sockets close only when both directions are done.
 *   <li>A reset or error on either side closes both, resetting the other so its peer learns of the failure.
 *   <li>Idle timeout: no byte either way for that long closes both.
 *   <li>Buffers or pipes come from the loop's {@link BufferPool} only while bytes are in flight; an idle relay
 *       holds none. When the pool's budget is spent, a direction moves bytes without holding any (see
 *       {@link BufferPool#unbuffered()}), or waits for a buffer where that cannot work: never an allocation past
 *       the budget.
 *   <li>One wakeup moves at most {@link #CHUNKS_PER_WAKEUP} chunks in each direction, so one fast stream cannot
 *       starve the others on the loop.
 * </ul>
 *
 * <p>The loop's pool decides how bytes move ({@link RelayMode}): {@code splice(2)} through a pipe, or a read into
 * a direct buffer and a write from it.
 */
public final class Relay {

    /** Why a relay ended. */
    public enum Ending {
        /** Both directions reached EOF and every byte was delivered. */
        COMPLETED,
        /** No byte either way for the idle timeout. */
        IDLE_TIMEOUT,
        /** A read or write failed on one side (reset, broken pipe); the other side was reset too. */
        FAILED,
        /** Ended from outside: shutdown, operator. */
        ABORTED
    }

    /**
     * How a relay ended; bytes are counted when delivered. {@code detail} says what happened in words for the
     * access log ("idle timeout 5m", "client Connection reset by peer"); empty for {@link Ending#COMPLETED}.
     */
    public record Result(long bytesUp, long bytesDown, Ending ending, String detail) {
        public boolean clean() {
            return ending == Ending.COMPLETED;
        }

        /** The access log's outcome field: {@code ok}, or the detail. */
        public String outcome() {
            return clean() ? "ok" : detail;
        }

        @Override
        public String toString() {
            return "up=" + bytesUp + "B down=" + bytesDown + "B outcome=" + outcome();
        }
    }

    /** Chunks (reads that filled their buffer or pipe) one direction moves per wakeup before yielding. */
    static final int CHUNKS_PER_WAKEUP = 16;

    private final EventLoop loop;
    private final BufferPool pool;
    private final Side client;
    private final Side upstream;
    private final Direction up;
    private final Direction down;
    private final long idleNanos;
    private final Consumer<Result> onEnd;
    private long lastActivity;
    private Timer idleTimer;
    private boolean ended;

    private Relay(EventLoop loop, SocketChannel clientChannel, SocketChannel upstreamChannel, Duration idleTimeout,
            Consumer<Result> onEnd) {
        this.loop = loop;
        this.pool = loop.buffers();
        this.client = new Side(clientChannel, "client");
        this.upstream = new Side(upstreamChannel, "upstream");
        this.up = new Direction(client, upstream);
        this.down = new Direction(upstream, client);
        client.reads = up;
        client.writes = down;
        upstream.reads = down;
        upstream.writes = up;
        this.idleNanos = idleTimeout.toNanos();
        this.onEnd = onEnd;
    }

    /**
     * Starts relaying; call on {@code loop}'s thread. Both channels must be connected and non-blocking.
     * {@code toUpstream} and {@code toClient} are bytes already read during the handshakes (pipelined client
     * data, early data from the destination), in read mode and taken from the loop's pool, or null. The relay
     * owns both channels and buffers from here on and calls {@code onEnd} exactly once, on the loop.
     */
    public static Relay start(EventLoop loop, SocketChannel clientChannel, SocketChannel upstreamChannel,
            ByteBuffer toUpstream, ByteBuffer toClient, Duration idleTimeout, Consumer<Result> onEnd) {
        Objects.requireNonNull(onEnd, "onEnd");
        Relay relay = new Relay(loop, clientChannel, upstreamChannel, idleTimeout, onEnd);
        relay.begin(toUpstream, toClient);
        return relay;
    }

    public long bytesUp() {
        return up.bytes;
    }

    public long bytesDown() {
        return down.bytes;
    }

    /** Ends the relay from outside (shutdown, operator); safe from any thread. */
    public void abort(String reason) {
        loop.execute(() -> fail(Ending.ABORTED, reason, false));
    }

    private void begin(ByteBuffer toUpstream, ByteBuffer toClient) {
        lastActivity = loop.now();
        try {
            client.key = loop.register(client.channel, 0, client);
            upstream.key = loop.register(upstream.channel, 0, upstream);
        } catch (IOException e) {
            release(toUpstream);
            release(toClient);
            fail(Ending.FAILED, "cannot register channels: " + e, false);
            return;
        }
        up.pending = nonEmptyOrRelease(toUpstream);
        down.pending = nonEmptyOrRelease(toClient);
        try {
            if (up.pending != null) {
                up.flush();
            }
            if (down.pending != null) {
                down.flush();
            }
        } catch (IOException e) {
            fail(Ending.FAILED, "write failed: " + e.getMessage(), true);
            return;
        }
        if (!ended) {
            client.updateInterest();
            upstream.updateInterest();
            if (idleNanos > 0) {
                idleTimer = loop.schedule(Duration.ofNanos(idleNanos), this::checkIdle);
            }
        }
    }

    private ByteBuffer nonEmptyOrRelease(ByteBuffer buffer) {
        if (buffer != null && !buffer.hasRemaining()) {
            release(buffer);
            return null;
        }
        return buffer;
    }

    private void release(ByteBuffer buffer) {
        if (buffer != null) {
            pool.release(buffer);
        }
    }

    private void checkIdle() {
        if (ended) {
            return;
        }
        long idleFor = loop.now() - lastActivity;
        if (idleFor >= idleNanos) {
            fail(Ending.IDLE_TIMEOUT, "idle timeout " + DurationSyntax.format(Duration.ofNanos(idleNanos)), false);
        } else {
            idleTimer = loop.schedule(Duration.ofNanos(idleNanos - idleFor), this::checkIdle);
        }
    }

    private void maybeFinish() {
        if (up.done && down.done && !ended) {
            end(Ending.COMPLETED, "");
            ChannelClose.quietly(client.channel);
            ChannelClose.quietly(upstream.channel);
        }
    }

    private void fail(Ending ending, String reason, boolean reset) {
        if (ended) {
            return;
        }
        end(ending, reason);
        if (reset) {
            ChannelClose.withReset(client.channel);
            ChannelClose.withReset(upstream.channel);
        } else {
            ChannelClose.quietly(client.channel);
            ChannelClose.quietly(upstream.channel);
        }
    }

    private void end(Ending ending, String detail) {
        ended = true;
        if (idleTimer != null) {
            idleTimer.cancel();
        }
        up.releaseAll();
        down.releaseAll();
        onEnd.accept(new Result(up.bytes, down.bytes, ending, detail));
    }

    /** One socket of the pair; its key's attachment. */
    private final class Side implements IoHandler {
        final SocketChannel channel;
        final String role;
        SelectionKey key;
        Direction reads;
        Direction writes;
        int interest = -1;

        Side(SocketChannel channel, String role) {
            this.channel = channel;
            this.role = role;
        }

        @Override
        public void ready(SelectionKey key) throws IOException {
            if (key.isWritable()) {
                writes.flush();
                // The source was not read while this side could take nothing; it has most likely more by now.
                if (!ended && writes.wantsRead()) {
                    writes.read();
                }
            }
            if (!ended && key.isValid() && key.isReadable()) {
                reads.read();
            }
            if (!ended) {
                updateInterest();
                writes.from.updateInterest();
                reads.to.updateInterest();
            }
        }

        @Override
        public void failed(Throwable cause) {
            fail(Ending.FAILED, role + " " + describe(cause), true);
        }

        void updateInterest() {
            if (ended || !key.isValid()) {
                return;
            }
            int ops = (reads.wantsRead() ? SelectionKey.OP_READ : 0)
                    | (writes.holding() ? SelectionKey.OP_WRITE : 0);
            if (ops != interest) {
                key.interestOps(ops);
                interest = ops;
            }
        }

        @Override
        public String toString() {
            return "relay " + role + " side";
        }
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }

    /**
     * Bytes flowing from one side to the other. At any time a direction holds at most one of: a buffer of bytes
     * not yet written ({@code pending}), bytes in a pipe ({@code inPipe}), or nothing but the knowledge that the
     * destination took less than was offered ({@code destinationFull}); while it holds any, it does not read.
     */
    private final class Direction {
        final Side from;
        final Side to;
        ByteBuffer pending;
        Pipe pipe;
        long inPipe;
        boolean destinationFull;
        boolean waitingForBuffer;
        final Consumer<ByteBuffer> grant = this::granted;
        boolean eof;
        boolean done;
        volatile long bytes;

        Direction(Side from, Side to) {
            this.from = from;
            this.to = to;
        }

        boolean holding() {
            return pending != null || inPipe > 0 || destinationFull;
        }

        boolean wantsRead() {
            return !eof && !holding() && !waitingForBuffer;
        }

        /** Moves chunks until the source would block, the destination is full, or the wakeup's share is used. */
        void read() throws IOException {
            for (int chunk = 0; chunk < CHUNKS_PER_WAKEUP && !ended && wantsRead(); chunk++) {
                if (!moveOne()) {
                    return;
                }
            }
        }

        /** One chunk; true when it filled its buffer or pipe and all of it was delivered (so read again). */
        private boolean moveOne() throws IOException {
            if (pool.mode() == RelayMode.SPLICE) {
                Pipe taken = pool.tryTakePipe();
                if (taken != null) {
                    return splice(taken);
                }
            } else {
                ByteBuffer buffer = pool.tryTake();
                if (buffer != null) {
                    return copy(buffer);
                }
            }
            return moveUnbuffered();
        }

        private boolean copy(ByteBuffer buffer) throws IOException {
            int n;
            try {
                n = from.channel.read(buffer);
            } catch (IOException e) {
                pool.release(buffer);
                throw e;
            }
            if (n <= 0) {
                pool.release(buffer);
                if (n < 0) {
                    reachedEnd();
                }
                return false;
            }
            lastActivity = loop.now();
            boolean filled = !buffer.hasRemaining();
            buffer.flip();
            pending = buffer;
            flush();
            return filled && !holding();
        }

        private boolean splice(Pipe taken) throws IOException {
            long n;
            try {
                n = Splice.fromSocket(from.channel, taken, taken.capacity());
            } catch (IOException e) {
                pool.releasePipe(taken, true);
                if (Splice.unsupported(e)) {
                    pool.fallBackToCopy(e);
                    return moveOne();
                }
                throw e;
            }
            if (n == Splice.WOULD_BLOCK || n == 0) {
                pool.releasePipe(taken, true);
                if (n == 0) {
                    reachedEnd();
                }
                return false;
            }
            lastActivity = loop.now();
            pipe = taken;
            inPipe = n;
            flush();
            return n == taken.capacity() && !holding();
        }

        /** No buffer or pipe to be had: move what the destination takes now, holding nothing, or wait. */
        private boolean moveUnbuffered() throws IOException {
            UnbufferedCopy copier = pool.unbuffered();
            if (copier == null) {
                waitingForBuffer = true;
                pool.await(grant);
                return false;
            }
            long n = copier.move(from.channel, to.channel);
            if (n == UnbufferedCopy.WOULD_BLOCK) {
                return false;
            }
            if (n == UnbufferedCopy.END_OF_STREAM) {
                reachedEnd();
                return false;
            }
            if (n > 0) {
                bytes += n;
                pool.countUnbuffered(n);
                lastActivity = loop.now();
            }
            if (n < copier.offered()) {
                destinationFull = true;
                return false;
            }
            return n == pool.bufferSize();
        }

        /** The pool handed over a released buffer (on a later loop turn). */
        private void granted(ByteBuffer buffer) {
            waitingForBuffer = false;
            if (ended) {
                pool.release(buffer);
                return;
            }
            try {
                if (copy(buffer)) {
                    read();
                }
            } catch (IOException e) {
                from.failed(e);
                return;
            }
            if (!ended) {
                from.updateInterest();
                to.updateInterest();
            }
        }

        /** Writes what is held; when all of it is delivered, the direction may read again. */
        void flush() throws IOException {
            if (pending != null) {
                int n = to.channel.write(pending);
                if (n > 0) {
                    bytes += n;
                    pool.countCopied(n);
                    lastActivity = loop.now();
                }
                if (pending.hasRemaining()) {
                    return;
                }
                pool.release(pending);
                pending = null;
            }
            if (inPipe > 0) {
                long n = Splice.toSocket(pipe, to.channel, (int) Math.min(Integer.MAX_VALUE, inPipe));
                if (n > 0) {
                    inPipe -= n;
                    bytes += n;
                    pool.countSpliced(n);
                    lastActivity = loop.now();
                }
                if (inPipe > 0) {
                    return;
                }
                pool.releasePipe(pipe, true);
                pipe = null;
            }
            destinationFull = false;
            finishIfDrained();
        }

        private void reachedEnd() throws IOException {
            eof = true;
            lastActivity = loop.now();
            finishIfDrained();
        }

        private void finishIfDrained() throws IOException {
            if (eof && !holding() && !done) {
                done = true;
                if (to.channel.isOpen()) {
                    try {
                        to.channel.shutdownOutput();
                    } catch (IOException e) {
                        // the other side is already gone; the other direction will notice
                    }
                }
                maybeFinish();
            }
        }

        void releaseAll() {
            if (pending != null) {
                pool.release(pending);
                pending = null;
            }
            if (pipe != null) {
                pool.releasePipe(pipe, inPipe == 0);
                pipe = null;
                inPipe = 0;
            }
            if (waitingForBuffer) {
                pool.cancel(grant);
                waitingForBuffer = false;
            }
        }
    }
}
