package dev.chainsocks.control;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A connected stream channel where every read and write has a deadline, so a peer that stops talking (or stops
 * reading) cannot hold up the thread for longer than the timeout. Each operation gets the whole timeout.
 */
final class TimedChannel implements Closeable {
    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final Duration timeout;

    TimedChannel(SocketChannel channel, Duration timeout) throws IOException {
        this.channel = channel;
        this.timeout = timeout;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        try {
            this.key = channel.register(selector, 0);
        } catch (IOException | RuntimeException e) {
            selector.close();
            throw e;
        }
    }

    /** Reads until the peer closes its side. */
    String readToEnd(int maxBytes, String what) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (true) {
            buffer.clear();
            int read = channel.read(buffer);
            if (read < 0) {
                return text.toString(StandardCharsets.UTF_8);
            }
            if (read == 0) {
                await(SelectionKey.OP_READ, deadline, what);
                continue;
            }
            if (text.size() + read > maxBytes) {
                throw new IOException(what + " is longer than " + maxBytes + " bytes");
            }
            text.write(buffer.array(), 0, read);
        }
    }

    /** Writes all of {@code text}. */
    void write(String text, String what) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buffer.hasRemaining()) {
            if (channel.write(buffer) == 0) {
                await(SelectionKey.OP_WRITE, deadline, what);
            }
        }
    }

    private void await(int operation, long deadline, String what) throws IOException {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            throw new SocketTimeoutException("timed out after " + timeout.toMillis() + " ms waiting for " + what);
        }
        key.interestOps(operation);
        selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
        selector.selectedKeys().clear();
    }

    /** Closes the selector; the channel belongs to the caller. */
    @Override
    public void close() throws IOException {
        selector.close();
    }
}
