package dev.chainsocks.engine;

import dev.chainsocks.syntax.DurationSyntax;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Drives a sans-I/O handshake over a socket on its event loop: sends what the state machine wants sent, feeds it
 * what arrives, until it says it is finished and everything it wanted sent has been sent, within a deadline.
 *
 * <p>The input buffer is a small heap buffer that grows as a message needs (handshakes are a few bytes; a pooled
 * 64 KiB buffer per dialing connection would add up in a burst). When the exchange finishes, bytes past the
 * handshake (pipelined or early data) stay in it and are handed to {@link Callback#finished}, which then owns it.
 */
public final class Exchange implements IoHandler {

    /** The three things a handshake state machine offers. */
    public record Machine(Consumer<ByteBuffer> receive, Supplier<ByteBuffer> outbound, BooleanSupplier finished) {
    }

    public interface Callback {
        /** The handshake is finished; {@code leftover} is in read mode (possibly empty) and now belongs to the callee. */
        void finished(ByteBuffer leftover);

        /** The socket failed, the peer closed, or the deadline passed; the channel is not closed by the exchange. */
        void failed(IOException cause);
    }

    /** Handshake messages are small: start with this much and grow, up to {@link #MAX_INPUT_SIZE}. */
    static final int FIRST_INPUT_SIZE = 1024;
    /** Above the largest message any handshake accepts (an HTTP head is capped at 16 KiB by its codec). */
    static final int MAX_INPUT_SIZE = 32 * 1024;

    private final EventLoop loop;
    private final SocketChannel channel;
    private final Machine machine;
    private final Callback callback;
    private final String description;
    private ByteBuffer input;
    private SelectionKey key;
    private Timer deadline;
    private boolean over;

    private Exchange(EventLoop loop, SocketChannel channel, Machine machine, ByteBuffer input, String description,
            Callback callback) {
        this.loop = loop;
        this.channel = channel;
        this.machine = machine;
        this.input = input;
        this.description = description;
        this.callback = callback;
    }

    /**
     * Starts on the loop thread. {@code input} is a buffer in read mode that may already hold bytes for the machine
     * (they are fed first; for example what a previous hop's handshake left), or null for a fresh one.
     */
    public static Exchange start(EventLoop loop, SocketChannel channel, Machine machine, ByteBuffer input,
            Duration timeout, String description, Callback callback) {
        ByteBuffer buffer = input != null ? input : ByteBuffer.allocate(FIRST_INPUT_SIZE).flip();
        Exchange exchange = new Exchange(loop, channel, machine, buffer, description, callback);
        try {
            exchange.key = loop.register(channel, 0, exchange);
        } catch (IOException e) {
            exchange.finishWithFailure(e);
            return exchange;
        }
        exchange.deadline = loop.schedule(timeout, () -> exchange.finishWithFailure(
                new SocketTimeoutException(description + " did not finish within " + DurationSyntax.format(timeout))));
        exchange.step();
        return exchange;
    }

    @Override
    public void ready(SelectionKey key) throws IOException {
        if (over) {
            return;
        }
        if (key.isReadable()) {
            if (input.remaining() == input.capacity() && input.capacity() < MAX_INPUT_SIZE) {
                input = ByteBuffer.allocate(Math.min(MAX_INPUT_SIZE, input.capacity() * 2)).put(input).flip();
            }
            input.compact();
            int n;
            try {
                n = channel.read(input);
            } finally {
                input.flip();
            }
            if (n < 0) {
                throw new EOFException(description + ": peer closed the connection");
            }
        }
        step();
    }

    /**
     * Loop thread only: the machine has something new to send, or has finished, without new input (it was waiting
     * for work done off the loop). Does nothing once the exchange is over.
     */
    public void resume() {
        step();
    }

    private void step() {
        if (over) {
            return;
        }
        try {
            if (input.hasRemaining() && !machine.finished().getAsBoolean()) {
                machine.receive().accept(input);
            }
            ByteBuffer out = machine.outbound().get();
            if (out.hasRemaining()) {
                channel.write(out);
            }
            boolean flushed = !out.hasRemaining();
            if (flushed && machine.finished().getAsBoolean()) {
                over = true;
                deadline.cancel();
                key.interestOps(0);
                ByteBuffer leftover = input;
                input = null;
                callback.finished(leftover);
                return;
            }
            if (machine.finished().getAsBoolean()) {
                key.interestOps(SelectionKey.OP_WRITE);
            } else if (input.remaining() >= MAX_INPUT_SIZE) {
                finishWithFailure(new IOException(description + ": handshake message larger than "
                        + MAX_INPUT_SIZE + " bytes"));
            } else {
                key.interestOps(flushed ? SelectionKey.OP_READ : SelectionKey.OP_WRITE | SelectionKey.OP_READ);
            }
        } catch (IOException e) {
            finishWithFailure(e);
        }
    }

    @Override
    public void failed(Throwable cause) {
        finishWithFailure(cause instanceof IOException io ? io : new IOException(cause));
    }

    private void finishWithFailure(IOException cause) {
        if (over) {
            return;
        }
        over = true;
        if (deadline != null) {
            deadline.cancel();
        }
        if (key != null && key.isValid()) {
            key.interestOps(0);
        }
        if (input != null) {
            loop.buffers().release(input);
            input = null;
        }
        callback.failed(cause);
    }

    @Override
    public String toString() {
        return description;
    }
}
