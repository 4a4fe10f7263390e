package dev.chainsocks.control;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.tinylog.Logger;

/**
 * The control socket: a unix stream socket where {@code chainsocks status}, {@code reload} and friends reach the
 * running service.
 *
 * <p>Protocol, one request per connection: the client writes one line (at most {@value #MAX_REQUEST_BYTES} bytes),
 * the server writes the {@link ControlHandler}'s answer, ending in a line break, and closes. A handler exception is
 * answered with {@code error: <message>}.
 *
 * <p>Threads: one daemon thread, {@code control-socket}, runs a selector of its own (never the redirector's event
 * loops) that accepts, reads and writes for every client at once, so a client that connects and sends nothing, or
 * stops reading, holds up nobody but itself. Each client has a deadline: its request line within the I/O timeout of
 * connecting, and its answer taken with no pause longer than that timeout; past it, the client is told so (or just
 * closed) and forgotten. Requests are answered on {@value #HANDLER_THREADS} daemon threads,
 * {@code control-handler-N}, so a slow reload does not hold up a {@code status}.
 *
 * <p>Out of file descriptors: the server keeps one spare descriptor open (on /dev/null). When {@code accept} fails,
 * it closes the spare, accepts one client into that descriptor, answers it, and opens the spare again; further
 * clients wait in the listen backlog meanwhile. So {@code chainsocks status} still answers a process that has run out
 * of descriptors, one client at a time.
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
    /** How long a client may take to send its line, or may pause while taking the response. */
    public static final Duration DEFAULT_IO_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Clients connected at once. One more displaces the client that has waited longest for its request line; when
     * every client is past that stage, accepting waits until one is done.
     */
    static final int MAX_CLIENTS = 32;
    /** Threads that run the handler. */
    static final int HANDLER_THREADS = 2;
    /** Requests waiting for a handler thread; more are answered {@code error: busy}. */
    private static final int MAX_WAITING_REQUESTS = 16;
    /** How long accepting pauses after a failed accept with no spare descriptor to fall back on. */
    private static final Duration ACCEPT_RETRY = Duration.ofMillis(100);
    private static final Path DEV_NULL = Path.of("/dev/null");

    private final Path socket;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final SelectionKey acceptKey;
    private final Object socketFileKey;
    private final ControlHandler handler;
    private final Duration ioTimeout;
    private final SpareDescriptor spare;
    private final ThreadPoolExecutor handlers;
    private final Thread thread;
    /** Answers the handler threads have ready, to be written by the selector thread. */
    private final Queue<Runnable> answered = new ConcurrentLinkedQueue<>();
    /** Every connected client, oldest first; touched by the selector thread only. */
    private final Set<Client> clients = new LinkedHashSet<>();
    /** Why accepting is paused, if it is. */
    private AcceptPause acceptPause = AcceptPause.NONE;
    /** With {@link AcceptPause#RETRY}: when to try again. */
    private long acceptRetryAt;
    private boolean acceptFailureLogged;
    /**
     * A client has closed since the last select. Its descriptor is released only when the selector next selects,
     * which the loop does at once, so a finished client never holds a descriptor while the loop waits.
     */
    private boolean releasePending;
    /** The client that had the spare descriptor has closed: open the spare again once its descriptor is released. */
    private boolean spareReturnPending;
    private volatile boolean closing;

    private ControlServer(Path socket, ServerSocketChannel server, Selector selector, Object socketFileKey,
                          ControlHandler handler, Duration ioTimeout, SpareDescriptor spare) throws IOException {
        this.socket = socket;
        this.server = server;
        this.selector = selector;
        this.acceptKey = server.register(selector, SelectionKey.OP_ACCEPT);
        this.socketFileKey = socketFileKey;
        this.handler = handler;
        this.ioTimeout = ioTimeout;
        this.spare = spare;
        AtomicInteger handlerCount = new AtomicInteger();
        this.handlers = new ThreadPoolExecutor(HANDLER_THREADS, HANDLER_THREADS, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(MAX_WAITING_REQUESTS), runnable -> {
                    Thread worker = new Thread(runnable, "control-handler-" + handlerCount.incrementAndGet());
                    worker.setDaemon(true);
                    return worker;
                });
        // Threads exist before they are needed: a process out of descriptors may be short of other things too.
        this.handlers.prestartAllCoreThreads();
        this.thread = new Thread(this::run, "control-socket");
        this.thread.setDaemon(true);
    }

    /** Binds {@code socket} and starts answering. */
    public static ControlServer start(Path socket, ControlHandler handler) throws IOException {
        return start(socket, handler, DEFAULT_IO_TIMEOUT);
    }

    /** As {@link #start(Path, ControlHandler)}, with the I/O timeout given. */
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
        Selector selector = null;
        SpareDescriptor spare = null;
        boolean bound = false;
        boolean started = false;
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            bound = true;
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            Object fileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
            server.configureBlocking(false);
            selector = Selector.open();
            spare = SpareDescriptor.open();
            ControlServer control = new ControlServer(path, server, selector, fileKey, handler, ioTimeout, spare);
            control.thread.start();
            started = true;
            Logger.info("control socket listening on {}", path);
            return control;
        } catch (IOException e) {
            throw new IOException("cannot listen on control socket " + path + ": " + e.getMessage(), e);
        } finally {
            if (!started) {
                server.close();
                if (selector != null) {
                    selector.close();
                }
                if (spare != null) {
                    spare.close();
                }
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

    /** The selector loop; when closing, it stops accepting and gives clients in progress one timeout to finish. */
    private void run() {
        boolean stopping = false;
        long closeDeadline = 0;
        try {
            while (true) {
                if (closing && !stopping) {
                    stopping = true;
                    acceptKey.cancel();
                    closeQuietly(server);
                    closeDeadline = System.nanoTime() + ioTimeout.toNanos();
                    for (Client client : new ArrayList<>(clients)) {
                        if (client.stage == Stage.READING) {
                            client.close();
                        }
                    }
                }
                if (stopping && (clients.isEmpty() || System.nanoTime() - closeDeadline >= 0)) {
                    break;
                }
                selector.select(selectTimeoutMillis(stopping, closeDeadline));
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key == acceptKey) {
                        acceptAll();
                    } else {
                        ((Client) key.attachment()).ready();
                    }
                }
                selector.selectedKeys().clear();
                Runnable answer;
                while ((answer = answered.poll()) != null) {
                    answer.run();
                }
                expireDeadlines();
                if (releasePending) {
                    // A closed channel's descriptor is released only when its selector next selects. Keys this
                    // makes ready stay in the selected set for the next turn.
                    releasePending = false;
                    selector.selectNow();
                    if (spareReturnPending) {
                        spareReturnPending = false;
                        spare.takeBack();
                    }
                }
                resumeAcceptingWhenDue();
            }
        } catch (IOException | RuntimeException e) {
            if (!closing) {
                Logger.error(e, "control socket {} stopped answering", socket);
            }
        } finally {
            for (Client client : new ArrayList<>(clients)) {
                client.close();
            }
            closeQuietly(server);
            closeQuietly(selector);
            spare.close();
            // Not shutdownNow(): interrupting a reload in progress could close the listeners it is binding.
            handlers.shutdown();
        }
    }

    /** Until the nearest deadline, rounded up; 0 (no limit) when nothing is due. */
    private long selectTimeoutMillis(boolean stopping, long closeDeadline) {
        List<Long> due = new ArrayList<>();
        if (stopping) {
            due.add(closeDeadline);
        }
        for (Client client : clients) {
            if (client.stage != Stage.HANDLING) {
                due.add(client.deadline);
            }
        }
        if (acceptPause == AcceptPause.RETRY) {
            due.add(acceptRetryAt);
        }
        long now = System.nanoTime();
        long wait = Long.MAX_VALUE;
        for (long at : due) {
            wait = Math.min(wait, Math.max(0, at - now));
        }
        return wait == Long.MAX_VALUE ? 0 : TimeUnit.NANOSECONDS.toMillis(wait) + 1;
    }

    private void acceptAll() {
        while (acceptPause == AcceptPause.NONE && acceptKey.isValid()) {
            boolean full = clients.size() >= MAX_CLIENTS;
            if (full && oldestReader() == null) {
                pauseAccepting(AcceptPause.ROOM);
                return;
            }
            SocketChannel channel;
            boolean onSpare = false;
            try {
                channel = server.accept();
                if (channel != null) {
                    acceptFailureLogged = false;
                }
            } catch (IOException e) {
                channel = null;
                if (spare.isHeld()) {
                    spare.lend();
                    onSpare = true;
                    try {
                        channel = server.accept();
                    } catch (IOException again) {
                        channel = null;
                    }
                }
                if (channel == null) {
                    if (onSpare) {
                        spare.takeBack();
                    }
                    acceptFailed(e);
                    return;
                }
                Logger.debug("control socket {}: accepted on the spare descriptor ({})", socket, e.getMessage());
            }
            if (channel == null) {
                return;
            }
            if (full) {
                Logger.debug("control socket {}: {} clients connected; dropping the one idle longest", socket,
                        clients.size());
                oldestReader().close();
            }
            try {
                channel.configureBlocking(false);
                clients.add(new Client(channel, onSpare));
            } catch (IOException | RuntimeException e) {
                closeQuietly(channel);
                if (onSpare) {
                    spare.takeBack();
                }
                Logger.debug("control socket {}: client dropped at accept: {}", socket, e.getMessage());
            }
        }
    }

    /** Accept failed and no spare descriptor helped: leave the client in the backlog and try again soon. */
    private void acceptFailed(IOException e) {
        if (!acceptFailureLogged) {
            acceptFailureLogged = true;
            Logger.warn("control socket {}: cannot accept ({}); retrying while the process frees descriptors",
                    socket, e.getMessage());
        }
        acceptRetryAt = System.nanoTime() + ACCEPT_RETRY.toNanos();
        pauseAccepting(AcceptPause.RETRY);
    }

    private void pauseAccepting(AcceptPause why) {
        acceptKey.interestOps(0);
        acceptPause = why;
    }

    private void resumeAcceptingWhenDue() {
        boolean due = switch (acceptPause) {
            case NONE -> false;
            case ROOM -> clients.size() < MAX_CLIENTS;
            case RETRY -> System.nanoTime() - acceptRetryAt >= 0;
        };
        if (due && acceptKey.isValid()) {
            if (!spare.isHeld() && !spare.isLent()) {
                spare.takeBack();
            }
            acceptPause = AcceptPause.NONE;
            acceptKey.interestOps(SelectionKey.OP_ACCEPT);
        }
    }

    /** Why accepting is paused. */
    private enum AcceptPause {
        NONE,
        /** {@link #MAX_CLIENTS} clients, none of them still reading: until one is done. */
        ROOM,
        /** {@code accept} failed with no spare descriptor to lend: for {@link #ACCEPT_RETRY}, or until it is back. */
        RETRY
    }

    /** The client that has waited longest for its request line, or null when every client is past that. */
    private Client oldestReader() {
        for (Client client : clients) {
            if (client.stage == Stage.READING) {
                return client;
            }
        }
        return null;
    }

    private void expireDeadlines() {
        long now = System.nanoTime();
        for (Client client : new ArrayList<>(clients)) {
            if (client.stage != Stage.HANDLING && now - client.deadline >= 0) {
                client.deadlinePassed();
            }
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

    /** Where a client is in its one exchange. */
    private enum Stage {
        /** Waiting for the request line; deadline: the I/O timeout after connecting. */
        READING,
        /** The handler runs; no deadline of ours (the client has its own). */
        HANDLING,
        /** Writing the answer; deadline: the I/O timeout after the last progress. */
        WRITING
    }

    /** One connected client; every method runs on the selector thread. */
    private final class Client {
        private final SocketChannel channel;
        private final SelectionKey key;
        private final boolean onSpare;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final ByteBuffer input = ByteBuffer.allocate(512);
        private Stage stage = Stage.READING;
        private ByteBuffer output;
        private long deadline;
        private boolean closed;

        Client(SocketChannel channel, boolean onSpare) throws IOException {
            this.channel = channel;
            this.onSpare = onSpare;
            this.deadline = System.nanoTime() + ioTimeout.toNanos();
            this.key = channel.register(selector, SelectionKey.OP_READ, this);
        }

        void ready() {
            try {
                if (stage == Stage.READING && key.isReadable()) {
                    read();
                } else if (stage == Stage.WRITING && key.isWritable()) {
                    write();
                }
            } catch (IOException | RuntimeException e) {
                Logger.debug("control socket {}: client dropped: {}", socket, e.toString());
                close();
            }
        }

        /**
         * Reads what has arrived. The line ends at {@code '\n'} (a {@code '\r'} before it is dropped) or at end of
         * stream, so {@code printf status | nc -U} works.
         */
        private void read() throws IOException {
            while (stage == Stage.READING) {
                input.clear();
                int read = channel.read(input);
                if (read == 0) {
                    return;
                }
                if (read < 0) {
                    request(decodeLine());
                    return;
                }
                input.flip();
                while (input.hasRemaining()) {
                    byte b = input.get();
                    if (b == '\n') {
                        request(decodeLine());
                        return;
                    }
                    if (line.size() == MAX_REQUEST_BYTES) {
                        answer("error: the request line is longer than " + MAX_REQUEST_BYTES + " bytes");
                        return;
                    }
                    line.write(b);
                }
            }
        }

        private String decodeLine() {
            String text = line.toString(StandardCharsets.UTF_8);
            return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
        }

        private void request(String command) {
            stage = Stage.HANDLING;
            key.interestOps(0);
            try {
                handlers.execute(() -> {
                    String response;
                    try {
                        response = handle(command);
                    } catch (Error e) {
                        // Still an answer: a client left without one would wait for its own timeout.
                        answered.add(() -> answer("error: " + e));
                        selector.wakeup();
                        throw e;
                    }
                    answered.add(() -> answer(response));
                    selector.wakeup();
                });
            } catch (RejectedExecutionException busy) {
                answer("error: busy: " + MAX_WAITING_REQUESTS + " requests are waiting; try again");
            }
        }

        private void answer(String response) {
            if (closed) {
                return;
            }
            stage = Stage.WRITING;
            output = ByteBuffer.wrap((response.endsWith("\n") ? response : response + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            deadline = System.nanoTime() + ioTimeout.toNanos();
            key.interestOps(SelectionKey.OP_WRITE);
        }

        private void write() throws IOException {
            if (channel.write(output) > 0) {
                deadline = System.nanoTime() + ioTimeout.toNanos();
            }
            if (!output.hasRemaining()) {
                channel.shutdownOutput();
                close();
            }
        }

        void deadlinePassed() {
            if (stage == Stage.READING) {
                Logger.debug("control socket {}: no request line within {} ms", socket, ioTimeout.toMillis());
                answer("error: timed out after " + ioTimeout.toMillis() + " ms waiting for the request line");
            } else {
                Logger.debug("control socket {}: client took no part of the answer for {} ms", socket,
                        ioTimeout.toMillis());
                close();
            }
        }

        void close() {
            if (closed) {
                return;
            }
            closed = true;
            clients.remove(this);
            key.cancel();
            closeQuietly(channel);
            releasePending = true;
            if (onSpare) {
                spareReturnPending = true;
                if (acceptPause == AcceptPause.RETRY) {
                    // The next client waiting in the backlog can have the spare now.
                    acceptRetryAt = System.nanoTime();
                }
            }
        }
    }

    /**
     * One descriptor held open on /dev/null for the moment the process has no other: lent out (closed) so that one
     * control client can be accepted, and taken back (opened again) when that client is done.
     */
    private static final class SpareDescriptor implements Closeable {
        private FileChannel held;
        private boolean lent;
        private boolean lossLogged;

        private SpareDescriptor(FileChannel held) {
            this.held = held;
        }

        static SpareDescriptor open() throws IOException {
            return new SpareDescriptor(FileChannel.open(DEV_NULL, StandardOpenOption.READ));
        }

        boolean isHeld() {
            return held != null;
        }

        boolean isLent() {
            return lent;
        }

        /** Closes the descriptor, so the next descriptor the process opens can take its place. */
        void lend() {
            closeQuietly(held);
            held = null;
            lent = true;
        }

        /** Opens the spare again; when the process has no descriptor left for it, tries again later. */
        void takeBack() {
            lent = false;
            if (held != null) {
                return;
            }
            try {
                held = FileChannel.open(DEV_NULL, StandardOpenOption.READ);
                lossLogged = false;
            } catch (IOException e) {
                if (!lossLogged) {
                    lossLogged = true;
                    Logger.warn("control socket: cannot keep a spare descriptor ({}); until it can, the control "
                            + "socket may not answer while the process is out of descriptors", e.getMessage());
                }
            }
        }

        @Override
        public void close() {
            closeQuietly(held);
            held = null;
        }
    }

    private static void closeQuietly(Closeable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (IOException e) {
            Logger.debug("closing {}: {}", closeable, e.getMessage());
        }
    }

    /**
     * Stops accepting, lets clients in progress finish for up to one I/O timeout, and removes the socket file if
     * it is still ours.
     */
    @Override
    public void close() throws IOException {
        closing = true;
        selector.wakeup();
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
