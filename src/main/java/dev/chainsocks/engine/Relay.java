package dev.chainsocks.engine;

import dev.chainsocks.linux.Pipe;
import dev.chainsocks.linux.Splice;
import dev.chainsocks.linux.UnbufferedCopy;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.ProtectionException;
import dev.chainsocks.proto.StreamProtection;
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

    /** Which socket of a relay carries protected messages. */
    public enum ProtectedSide { CLIENT, UPSTREAM }

    /**
     * Per-message protection on one side of a relay (SOCKS5 GSS-API integrity or confidentiality, RFC 1961
     * section 5): what goes out on {@code side} is protected, what comes in on it is verified and unprotected.
     *
     * @param protection the agreed protection, which the relay disposes of when it ends
     * @param side       the socket that carries protected messages
     * @param peer       who protects the other end, for the end line: "hop 1/2 socks5+gssapi://proxy:1080"
     * @param unreadWire bytes already read from {@code side} and not yet unprotected (in read mode, possibly
     *                   empty); the relay owns it from here on
     */
    public record Protection(StreamProtection protection, ProtectedSide side, String peer, ByteBuffer unreadWire) {
        public Protection {
            Objects.requireNonNull(protection, "protection");
            Objects.requireNonNull(side, "side");
            Objects.requireNonNull(peer, "peer");
            Objects.requireNonNull(unreadWire, "unreadWire");
        }
    }

    /** Chunks (reads that filled their buffer or pipe) one direction moves per wakeup before yielding. */
    static final int CHUNKS_PER_WAKEUP = 16;
    /**
     * The same for a direction through per-message protection, where each buffer is also wrapped or unwrapped on the
     * loop: 4 buffers of 128 KiB are 16 messages of 32 KiB, about 1.3 ms of AES-CBC with HMAC-SHA1 (the cost of
     * Kerberos' aes256-cts-hmac-sha1-96 confidentiality: 80 us per 32 KiB, 17 us with integrity only, measured with
     * the JDK's ciphers on the 2-core development machine), so one connection cannot hold the loop much longer.
     */
    static final int PROTECTED_CHUNKS_PER_WAKEUP = 4;

    private final EventLoop loop;
    private final BufferPool pool;
    private final Side client;
    private final Side upstream;
    private final Flow up;
    private final Flow down;
    private final Protection protection;
    private final long idleNanos;
    private final Consumer<Result> onEnd;
    private long lastActivity;
    private Timer idleTimer;
    private boolean ended;

    private Relay(EventLoop loop, SocketChannel clientChannel, SocketChannel upstreamChannel, Protection protection,
            Duration idleTimeout, Consumer<Result> onEnd) {
        this.loop = loop;
        this.pool = loop.buffers();
        this.client = new Side(clientChannel, "client");
        this.upstream = new Side(upstreamChannel, "upstream");
        this.protection = protection;
        if (protection == null) {
            this.up = new Direction(client, upstream);
            this.down = new Direction(upstream, client);
        } else {
            boolean upstreamSide = protection.side() == ProtectedSide.UPSTREAM;
            this.up = new ProtectedDirection(client, upstream, upstreamSide);
            this.down = new ProtectedDirection(upstream, client, !upstreamSide);
        }
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
        Relay relay = new Relay(loop, clientChannel, upstreamChannel, null, idleTimeout, onEnd);
        relay.begin(toUpstream, toClient, null);
        return relay;
    }

    /**
     * As {@link #start}, with per-message protection on one side. {@code toUpstream} and {@code toClient} are
     * plaintext, as there; bytes read from the protected side and not yet unprotected come in
     * {@link Protection#unreadWire()}.
     *
     * <p>Such a relay always copies through the loop's buffers, whatever its {@link RelayMode}: splicing moves bytes
     * without looking at them, and these must be transformed. The protected side is read and written one message at
     * a time: a direction holds at most one pooled buffer of bytes read and one transformed message (at most
     * {@link StreamProtection#maxMessageSize()} bytes, on the heap) that its destination has not taken yet, and
     * reads nothing more meanwhile. When the pool's budget is spent it waits for a buffer (it cannot move bytes
     * unbuffered). A message that fails verification, or an end of stream in the middle of one, resets both sides
     * so neither mistakes the cut for the end of the data; the result's detail names {@link Protection#peer()}.
     *
     * <p>Protecting and unprotecting run on the loop thread: they are CPU work on at most one message (32 KiB with
     * SOCKS5 GSS-API, some 80 us with encryption) per call, with no I/O and no lock another thread holds for long
     * (see {@link StreamProtection}); handing each message to another thread and back would add two queue hand-offs
     * and a wakeup per message, and reorder nothing the loop does not already order. A lower per-wakeup limit
     * ({@link #PROTECTED_CHUNKS_PER_WAKEUP}) bounds how long one protected connection holds the loop.
     *
     * @throws IllegalArgumentException when the loop's buffers cannot hold a whole protected message
     */
    public static Relay startProtected(EventLoop loop, SocketChannel clientChannel, SocketChannel upstreamChannel,
            Protection protection, ByteBuffer toUpstream, ByteBuffer toClient, Duration idleTimeout,
            Consumer<Result> onEnd) {
        Objects.requireNonNull(onEnd, "onEnd");
        Objects.requireNonNull(protection, "protection");
        int needed = protection.protection().maxMessageSize();
        if (loop.buffers().bufferSize() < needed) {
            throw new IllegalArgumentException("relay buffers of " + loop.buffers().bufferSize()
                    + " bytes cannot hold a whole protected message of up to " + needed + " bytes");
        }
        Relay relay = new Relay(loop, clientChannel, upstreamChannel, protection, idleTimeout, onEnd);
        relay.begin(toUpstream, toClient, protection.unreadWire());
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

    private void begin(ByteBuffer toUpstream, ByteBuffer toClient, ByteBuffer unreadWire) {
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
        ByteBuffer wire = unreadWire == null || !unreadWire.hasRemaining() ? null : unreadWire;
        boolean upstreamProtected = protection != null && protection.side() == ProtectedSide.UPSTREAM;
        up.preload(nonEmptyOrRelease(toUpstream), upstreamProtected ? null : wire);
        down.preload(nonEmptyOrRelease(toClient), upstreamProtected ? wire : null);
        try {
            up.begin();
            down.begin();
        } catch (ProtectedStreamException e) {
            fail(Ending.FAILED, e.getMessage(), true);
            return;
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
        if (protection != null) {
            protection.protection().dispose();
        }
        onEnd.accept(new Result(up.bytes, down.bytes, ending, detail));
    }

    /** One socket of the pair; its key's attachment. */
    private final class Side implements IoHandler {
        final SocketChannel channel;
        final String role;
        SelectionKey key;
        Flow reads;
        Flow writes;
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
            fail(Ending.FAILED, cause instanceof ProtectedStreamException ? cause.getMessage()
                    : role + " " + describe(cause), true);
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

    /** Bytes flowing from one side to the other: what {@link Side} and the relay ask of each direction. */
    private abstract class Flow {
        final Side from;
        final Side to;
        final Consumer<ByteBuffer> grant = this::granted;
        boolean done;
        boolean waitingForBuffer;
        volatile long bytes;

        Flow(Side from, Side to) {
            this.from = from;
            this.to = to;
        }

        /** No buffer to be had now: wait for the pool to hand one over; {@link #resume} goes on with it. */
        void awaitBuffer() {
            waitingForBuffer = true;
            pool.await(grant);
        }

        /** Stops waiting for a buffer, if it was. */
        void cancelBufferWait() {
            if (waitingForBuffer) {
                pool.cancel(grant);
                waitingForBuffer = false;
            }
        }

        /** The pool handed over a released buffer (on a later loop turn). */
        private void granted(ByteBuffer buffer) {
            waitingForBuffer = false;
            if (ended) {
                pool.release(buffer);
                return;
            }
            try {
                resume(buffer);
            } catch (IOException e) {
                from.failed(e);
                return;
            }
            if (!ended) {
                from.updateInterest();
                to.updateInterest();
            }
        }

        /** Goes on reading with {@code buffer}, which the pool handed over after {@link #awaitBuffer}. */
        abstract void resume(ByteBuffer buffer) throws IOException;

        /** Bytes to deliver before reading: plaintext read during the handshakes, and unread protected bytes. */
        abstract void preload(ByteBuffer plaintext, ByteBuffer wire);

        /** Delivers what {@link #preload} gave. */
        abstract void begin() throws IOException;

        /** Holding bytes the destination has not taken: wait for it to be writable, read nothing meanwhile. */
        abstract boolean holding();

        abstract boolean wantsRead();

        abstract void read() throws IOException;

        abstract void flush() throws IOException;

        abstract void releaseAll();
    }

    /**
     * Bytes flowing from one side to the other. At any time a direction holds at most one of: a buffer of bytes
     * not yet written ({@code pending}), bytes in a pipe ({@code inPipe}), or nothing but the knowledge that the
     * destination took less than was offered ({@code destinationFull}); while it holds any, it does not read.
     */
    private final class Direction extends Flow {
        ByteBuffer pending;
        Pipe pipe;
        long inPipe;
        boolean destinationFull;
        boolean eof;

        Direction(Side from, Side to) {
            super(from, to);
        }

        @Override
        void preload(ByteBuffer plaintext, ByteBuffer wire) {
            pending = plaintext;
        }

        @Override
        void begin() throws IOException {
            if (pending != null) {
                flush();
            }
        }

        @Override
        boolean holding() {
            return pending != null || inPipe > 0 || destinationFull;
        }

        @Override
        boolean wantsRead() {
            return !eof && !holding() && !waitingForBuffer;
        }

        /** Moves chunks until the source would block, the destination is full, or the wakeup's share is used. */
        @Override
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
                awaitBuffer();
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

        @Override
        void resume(ByteBuffer buffer) throws IOException {
            if (copy(buffer)) {
                read();
            }
        }

        /** Writes what is held; when all of it is delivered, the direction may read again. */
        @Override
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

        @Override
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
            cancelBufferWait();
        }
    }

    /** A protected message that cannot be handled: the relay ends with this message as its detail. */
    private static final class ProtectedStreamException extends IOException {
        ProtectedStreamException(String message) {
            super(message);
        }
    }

    /**
     * One direction through per-message protection: {@code protecting} reads plaintext and writes protected
     * messages, otherwise it reads protected messages and writes their plaintext. It holds at most a pooled buffer
     * of bytes read ({@code source}: plaintext still to protect, or whole and partial messages still to unprotect)
     * and one transformed message not yet written ({@code out}); while {@code out} waits for its destination, or no
     * buffer is to be had, it reads nothing.
     */
    private final class ProtectedDirection extends Flow {
        final boolean protecting;
        final StreamProtection codec;
        ByteBuffer source;
        ByteBuffer out;
        /** Plaintext bytes {@code out} stands for, counted once it is written. */
        int outPlaintext;
        boolean eof;

        ProtectedDirection(Side from, Side to, boolean protecting) {
            super(from, to);
            this.protecting = protecting;
            this.codec = protection.protection();
        }

        @Override
        void preload(ByteBuffer plaintext, ByteBuffer wire) {
            if (protecting) {
                source = plaintext;
            } else {
                out = plaintext;
                outPlaintext = plaintext == null ? 0 : plaintext.remaining();
                source = wire;
            }
        }

        @Override
        void begin() throws IOException {
            pump();
        }

        @Override
        boolean holding() {
            return out != null;
        }

        @Override
        boolean wantsRead() {
            return !eof && out == null && !waitingForBuffer;
        }

        @Override
        void read() throws IOException {
            for (int chunk = 0; chunk < PROTECTED_CHUNKS_PER_WAKEUP && !ended && wantsRead(); chunk++) {
                if (!ensureBuffer()) {
                    return;
                }
                source.compact();
                int n;
                try {
                    n = from.channel.read(source);
                } finally {
                    source.flip();
                }
                if (n < 0) {
                    eof = true;
                    lastActivity = loop.now();
                    pump();
                    return;
                }
                if (n == 0) {
                    releaseIfEmpty();
                    return;
                }
                lastActivity = loop.now();
                boolean filled = source.limit() == source.capacity();
                pump();
                if (!filled) {
                    return;
                }
            }
        }

        /**
         * A pooled buffer to read into, with what the source held moved into it; false when none is to be had now
         * (the direction then waits for one).
         */
        private boolean ensureBuffer() {
            if (source != null && source.isDirect() && source.capacity() == pool.bufferSize()) {
                return true;
            }
            ByteBuffer taken = pool.tryTake();
            if (taken == null) {
                awaitBuffer();
                return false;
            }
            adopt(taken);
            return true;
        }

        private void adopt(ByteBuffer buffer) {
            if (source != null) {
                buffer.put(source);
                pool.release(source);
            }
            source = buffer.flip();
        }

        @Override
        void resume(ByteBuffer buffer) throws IOException {
            adopt(buffer);
            read();
        }

        @Override
        void flush() throws IOException {
            pump();
        }

        /**
         * Writes the message held, then transforms and writes the next ones from the source, until the destination
         * takes no more or the source has no whole piece left; then ends the direction if its source ended.
         */
        private void pump() throws IOException {
            while (!ended) {
                if (out != null) {
                    int n = to.channel.write(out);
                    if (n > 0) {
                        pool.countCopied(n);
                        lastActivity = loop.now();
                    }
                    if (out.hasRemaining()) {
                        return;
                    }
                    bytes += outPlaintext;
                    out = null;
                }
                if (source == null || !next()) {
                    break;
                }
            }
            releaseIfEmpty();
            if (eof && out == null && !done) {
                if (source != null && source.hasRemaining()) {
                    throw new ProtectedStreamException(protection.peer() + " (" + codec.name() + ") closed the"
                            + " connection in the middle of a protected message (" + source.remaining()
                            + " bytes of it arrived)");
                }
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

        /** Transforms the next piece of the source into {@code out}; false when there is no whole piece. */
        private boolean next() throws ProtectedStreamException {
            if (protecting) {
                if (!source.hasRemaining()) {
                    return false;
                }
                int before = source.remaining();
                try {
                    out = codec.protect(source);
                } catch (ProtectionException e) {
                    throw new ProtectedStreamException("cannot protect for " + protection.peer() + " ("
                            + codec.name() + "): " + e.getMessage());
                }
                outPlaintext = before - source.remaining();
                return true;
            }
            Decoded<ByteBuffer> decoded = codec.unprotect(source);
            if (decoded instanceof Decoded.Malformed<ByteBuffer> malformed) {
                throw new ProtectedStreamException("corrupt protected message from " + protection.peer() + " ("
                        + codec.name() + "): " + malformed.reason());
            }
            if (!(decoded instanceof Decoded.Message<ByteBuffer> message)) {
                return false;
            }
            out = message.message();
            outPlaintext = out.remaining();
            return true;
        }

        private void releaseIfEmpty() {
            if (source != null && !source.hasRemaining()) {
                pool.release(source);
                source = null;
            }
        }

        @Override
        void releaseAll() {
            if (source != null) {
                pool.release(source);
                source = null;
            }
            out = null;
            cancelBufferWait();
        }
    }
}
