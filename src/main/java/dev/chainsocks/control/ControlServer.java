package dev.chainsocks.control;

import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;
import org.tinylog.Logger;

/**
 * The control socket: a unix stream socket where {@code chainsocks status}, {@code reload} and friends reach the
 * running service.
 *
 * <p>Protocol, one request per connection: the client writes one line (at most {@value #MAX_REQUEST_BYTES} bytes),
 * the server writes the {@link ControlHandler}'s answer, ending in a line break, and closes. A handler exception is
 * answered with {@code error: <message>}. One daemon thread, {@code control-socket}, accepts and answers in turn;
 * every read and write has a timeout so a stuck client cannot wedge it.
 *
 * <p>The socket file gets mode 0660 after bind (owner and group may connect). A stale socket left by a crashed
 * run is replaced; a live one, or a file that is not a socket, is an error. The directory must exist; where the
 * socket goes when nothing names one is {@link ControlSocketLocation}'s choice.
 *
 * <pre>{@code
 * try (ControlServer control = ControlServer.start(Path.of("/run/chainsocks/control.sock"), command -> ...)) { ... }
 * }</pre>
 */
public final class ControlServer implements Closeable {
    /** Longest request line accepted, in bytes. */
    public static final int MAX_REQUEST_BYTES = 4096;
    /** How long a client may take to send its line, or to take the response. */
    public static final Duration DEFAULT_IO_TIMEOUT = Duration.ofSeconds(5);

    private final Path socket;
    private final ServerSocketChannel server;
    private final Object socketFileKey;
    private final ControlHandler handler;
    private final Duration ioTimeout;
    private final Thread thread;
    private volatile boolean closing;

    private ControlServer(Path socket, ServerSocketChannel server, Object socketFileKey, ControlHandler handler,
                          Duration ioTimeout) {
        this.socket = socket;
        this.server = server;
        this.socketFileKey = socketFileKey;
        this.handler = handler;
        this.ioTimeout = ioTimeout;
        this.thread = new Thread(this::acceptLoop, "control-socket");
        this.thread.setDaemon(true);
    }

    /** Binds {@code socket} and starts answering on the {@code control-socket} thread. */
    public static ControlServer start(Path socket, ControlHandler handler) throws IOException {
        return start(socket, handler, DEFAULT_IO_TIMEOUT);
    }

    /** As {@link #start(Path, ControlHandler)}, with the per-read and per-write timeout given. */
    public static ControlServer start(Path socket, ControlHandler handler, Duration ioTimeout) throws IOException {
        Objects.requireNonNull(handler, "handler");
        Path path = socket.toAbsolutePath();
        Path directory = path.getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw new IOException("cannot create control socket " + path + ": directory " + directory
                    + " does not exist; create it, or use --control-socket PATH in a directory that does");
        }
        replaceStaleSocket(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        boolean bound = false;
        boolean started = false;
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            bound = true;
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            Object fileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
            ControlServer control = new ControlServer(path, server, fileKey, handler, ioTimeout);
            control.thread.start();
            started = true;
            Logger.info("control socket listening on {}", path);
            return control;
        } catch (IOException e) {
            throw new IOException("cannot listen on control socket " + path + ": " + e.getMessage(), e);
        } finally {
            if (!started) {
                server.close();
                if (bound) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    private static void replaceStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isOther()) {
            throw new IOException("cannot create control socket " + path + ": a file that is not a socket is "
                    + "there; refusing to replace it");
        }
        boolean answering;
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            answering = probe.isConnected();
        } catch (IOException refused) {
            answering = false;
        }
        if (answering) {
            throw new IOException("cannot create control socket " + path + ": another chainsocks is answering "
                    + "on it; stop it first or use --control-socket PATH");
        }
        Files.delete(path);
        Logger.info("removed stale control socket {}", path);
    }

    /** The socket file's path. */
    public Path socket() {
        return socket;
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                break;
            } catch (IOException e) {
                if (closing) {
                    break;
                }
                Logger.warn("control socket {}: accept failed: {}", socket, e.getMessage());
                pause();
                continue;
            }
            try (client) {
                answer(client);
            } catch (IOException | RuntimeException e) {
                Logger.debug("control socket {}: client dropped: {}", socket, e.getMessage());
            }
        }
    }

    private void answer(SocketChannel client) throws IOException {
        try (TimedChannel io = new TimedChannel(client, ioTimeout)) {
            String response;
            try {
                String command = io.readLine(MAX_REQUEST_BYTES, "the request line");
                response = handle(command);
            } catch (IOException e) {
                response = "error: " + e.getMessage();
            }
            io.write(response.endsWith("\n") ? response : response + "\n", "the client to read the response");
            client.shutdownOutput();
        }
    }

    private String handle(String command) {
        if (command.isBlank()) {
            return "error: empty request";
        }
        try {
            String response = handler.handle(command.strip());
            return response == null ? "" : response;
        } catch (Exception e) {
            Logger.debug(e, "control command '{}' failed", command);
            String message = e.getMessage();
            return "error: " + (message == null || message.isBlank() ? e.getClass().getSimpleName() : message);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops answering, waits for a request in progress, and removes the socket file if it is still ours. */
    @Override
    public void close() throws IOException {
        closing = true;
        server.close();
        try {
            thread.join(ioTimeout.multipliedBy(3).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            BasicFileAttributes now = Files.readAttributes(socket, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (Objects.equals(now.fileKey(), socketFileKey)) {
                Files.delete(socket);
            }
        } catch (NoSuchFileException gone) {
            // Someone removed it already.
        }
    }

    @Override
    public String toString() {
        return "control socket " + socket;
    }
}
