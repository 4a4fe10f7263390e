package dev.chainsocks.e2e.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketOptions;

/**
 * systemd's side of {@code sd_notify}: a unix datagram socket bound at a path, to be handed to chainsocks as
 * {@code NOTIFY_SOCKET}. Every datagram is kept, in arrival order, as one string ({@code "READY=1"},
 * {@code "RELOADING=1\nMONOTONIC_USEC=123"}).
 *
 * <p>The JDK has no unix datagram sockets, so this uses jnr-unixsocket, like the product. A daemon thread reads with
 * a short receive timeout, so {@link #close()} never waits on a blocked native call.
 */
public final class NotifySocketReceiver implements AutoCloseable {

    private static final int RECEIVE_TIMEOUT_MILLIS = 100;

    private final Path path;
    private final UnixDatagramChannel channel;
    private final List<String> messages = new ArrayList<>();
    private final Thread reader;
    private volatile boolean closed;

    private NotifySocketReceiver(Path path, UnixDatagramChannel channel) {
        this.path = path;
        this.channel = channel;
        this.reader = new Thread(this::readLoop, "notify-receiver");
        this.reader.setDaemon(true);
    }

    /** Binds {@code path} (which must not exist; unix socket paths are at most 107 bytes) and starts reading. */
    public static NotifySocketReceiver bind(Path path) throws IOException {
        UnixDatagramChannel channel = UnixDatagramChannel.open();
        boolean success = false;
        try {
            channel.bind(new UnixSocketAddress(path.toString()));
            channel.setOption(UnixSocketOptions.SO_RCVTIMEO, RECEIVE_TIMEOUT_MILLIS);
            NotifySocketReceiver receiver = new NotifySocketReceiver(path, channel);
            receiver.reader.start();
            success = true;
            return receiver;
        } finally {
            if (!success) {
                channel.close();
            }
        }
    }

    /** The value for {@code NOTIFY_SOCKET}. */
    public Path path() {
        return path;
    }

    private void readLoop() {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (!closed) {
            buffer.clear();
            try {
                channel.receive(buffer);
            } catch (IOException timeoutOrClosed) {
                continue;
            }
            buffer.flip();
            String message = StandardCharsets.UTF_8.decode(buffer).toString();
            synchronized (messages) {
                messages.add(message);
                messages.notifyAll();
            }
        }
    }

    /** Every datagram received so far, oldest first. */
    public List<String> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /**
     * Waits for the first message at index {@code from} or later that matches, and returns its index.
     *
     * @throws AssertionError naming what arrived, if none matches within {@code timeout}
     */
    public int awaitMessage(int from, Predicate<String> matcher, String description, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (messages) {
            int index = from;
            while (true) {
                for (; index < messages.size(); index++) {
                    if (matcher.test(messages.get(index))) {
                        return index;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no notification " + description + " at or after #" + from
                            + " within " + timeout + "; received: " + describe(messages));
                }
                try {
                    messages.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        }
    }

    /** Waits for a message exactly equal to {@code text} at index {@code from} or later; returns its index. */
    public int awaitMessage(int from, String text, Duration timeout) {
        return awaitMessage(from, text::equals, "\"" + text.replace("\n", "\\n") + "\"", timeout);
    }

    /** The messages numbered and with line breaks shown, for failure messages. */
    public static String describe(List<String> messages) {
        List<String> shown = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            shown.add("#" + i + " " + messages.get(i).replace("\n", "\\n"));
        }
        return shown.toString();
    }

    @Override
    public void close() {
        closed = true;
        try {
            reader.join(RECEIVE_TIMEOUT_MILLIS * 20L);
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "notify socket " + path;
    }
}
