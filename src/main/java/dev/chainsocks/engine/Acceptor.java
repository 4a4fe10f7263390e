package dev.chainsocks.engine;

import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.tinylog.Logger;

/**
 * Accepts connections on a listener and hands each to an event loop, counted against the connection limit.
 *
 * <p>A listener is one socket, or one socket per event loop ({@link #listenPerLoop}): then every socket is bound
 * to the same address with {@code SO_REUSEPORT}, the kernel spreads new connections over them, and each loop
 * accepts and serves its own, with no hand-over between threads. With one socket, the first loop accepts and hands
 * connections round robin to the loops.
 *
 * <p>When accept fails (typically EMFILE/ENFILE: out of file descriptors) a socket stops accepting for a while,
 * doubling the pause up to a cap, instead of spinning on a socket that stays readable. Above the connection limit a
 * new connection is reset at once, so its client learns quickly instead of waiting in the backlog.
 */
public final class Acceptor implements AutoCloseable {

    /** Receives an accepted, non-blocking channel on the loop that will own it. */
    public interface Handler {
        void accepted(EventLoop loop, SocketChannel channel, Acceptor acceptor);
    }

    private static final Duration FIRST_BACKOFF = Duration.ofMillis(10);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);

    private final EventLoopGroup group;
    private final List<Socket> sockets;
    private final Handler handler;
    private final ConnectionLimit limit;
    private final String name;
    private final AtomicLong refusedSinceLastLog = new AtomicLong();
    /**
     * When accept fails the whole listener pauses, whichever of its sockets failed: one log line per pause,
     * however many sockets it has. System.nanoTime() until which it pauses; the current pause length in ns.
     */
    private final AtomicLong pausedUntil = new AtomicLong(System.nanoTime());
    private volatile long backoffNanos = FIRST_BACKOFF.toNanos();
    private volatile boolean closed;

    private Acceptor(EventLoopGroup group, List<ServerSocketChannel> channels, boolean perLoop, Handler handler,
            ConnectionLimit limit, String name) {
        this.group = group;
        this.handler = handler;
        this.limit = limit;
        this.name = name;
        List<Socket> list = new ArrayList<>(channels.size());
        for (int i = 0; i < channels.size(); i++) {
            list.add(new Socket(group.loops().get(i), channels.get(i), perLoop));
        }
        this.sockets = List.copyOf(list);
    }

    /**
     * Opens a listening socket: {@code setup} runs on the unbound channel (socket options such as SO_REUSEADDR,
     * IP_TRANSPARENT), then it binds with the given backlog. The one way listeners are opened, for the redirector
     * and the bundled server alike. On failure the channel is closed and the exception names the address.
     */
    public static ServerSocketChannel bind(InetSocketAddress address, int backlog, ListenerSetup setup)
            throws IOException {
        return bind(address, backlog, setup, false);
    }

    private static ServerSocketChannel bind(InetSocketAddress address, int backlog, ListenerSetup setup,
            boolean reusePort) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(address.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        boolean success = false;
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            setup.apply(channel);
            channel.bind(address, backlog);
            success = true;
            return channel;
        } catch (IOException e) {
            throw new IOException("cannot listen on " + AddressSyntax.format(address) + ": " + e.getMessage(), e);
        } finally {
            if (!success) {
                ChannelClose.quietly(channel);
            }
        }
    }

    /** Applied to a listening socket before it binds. */
    public interface ListenerSetup {
        ListenerSetup NONE = channel -> { };

        void apply(ServerSocketChannel channel) throws IOException;
    }

    /**
     * An acceptor for an already bound {@code server} channel that does not accept yet: whoever owns the handler
     * finishes building what the handler needs, then calls {@link #start()}. The first loop accepts and hands
     * connections to the loops in turn. Connections count against the limit until the handler calls
     * {@link #release()} once for each.
     */
    public static Acceptor create(EventLoopGroup group, ServerSocketChannel server, ConnectionLimit limit,
            String name, Handler handler) {
        return new Acceptor(group, List.of(server), false, handler, limit, name);
    }

    /**
     * Binds one socket per loop of {@code group} to {@code address} with {@code SO_REUSEPORT} and returns an
     * acceptor over them that does not accept yet (see {@link #create}); each loop serves the connections its own
     * socket accepts. {@code name} gets the bound address appended ({@code listener 0.0.0.0:12345}).
     *
     * <p>{@code SO_REUSEPORT} would also let another process of the same user bind the address and take a share
     * of the connections, so the address is first bound without it, which fails if anyone else listens there.
     *
     * @throws IOException naming the address when a bind fails; nothing stays open then
     */
    public static Acceptor listenPerLoop(EventLoopGroup group, InetSocketAddress address, int backlog,
            ListenerSetup setup, ConnectionLimit limit, String name, Handler handler) throws IOException {
        int count = group.loops().size();
        if (count > 1 && address.getPort() != 0) {
            // Nobody else may be listening there: with SO_REUSEPORT on both, the bind below would succeed beside
            // another process of the same user and the kernel would split the connections between the two.
            ChannelClose.quietly(bind(address, 0, setup, false));
        }
        List<ServerSocketChannel> channels = new ArrayList<>(count);
        boolean success = false;
        try {
            ServerSocketChannel first = bind(address, backlog, setup, count > 1);
            channels.add(first);
            // With port 0 the kernel chose one: the others join it there.
            InetSocketAddress bound = new InetSocketAddress(address.getAddress(),
                    ((InetSocketAddress) first.getLocalAddress()).getPort());
            while (channels.size() < count) {
                channels.add(bind(bound, backlog, setup, true));
            }
            Acceptor acceptor = new Acceptor(group, channels, true, handler, limit, name + " " + boundAddress(first));
            success = true;
            return acceptor;
        } finally {
            if (!success) {
                channels.forEach(ChannelClose::quietly);
            }
        }
    }

    private static String boundAddress(ServerSocketChannel channel) throws IOException {
        return AddressSyntax.format((InetSocketAddress) channel.getLocalAddress());
    }

    /** Starts accepting; returns once every socket is registered on its loop. */
    public void start() throws IOException {
        for (Socket socket : sockets) {
            socket.start();
        }
    }

    public InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) sockets.get(0).channel.getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    /** The name its log lines carry, e.g. {@code listener 0.0.0.0:12345}. */
    public String name() {
        return name;
    }

    /** A connection handed out by this acceptor has ended. */
    public void release() {
        limit.release();
    }

    /** Stops accepting and closes the listening sockets; connections already handed out carry on. */
    @Override
    public void close() {
        closed = true;
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    @Override
    public String toString() {
        return name;
    }

    /** One listening socket and the loop that accepts on it. */
    private final class Socket implements IoHandler {
        private final EventLoop loop;
        private final ServerSocketChannel channel;
        /** Whether accepted connections stay on this loop rather than going round robin over the group. */
        private final boolean servesOwn;
        private SelectionKey key;

        Socket(EventLoop loop, ServerSocketChannel channel, boolean servesOwn) {
            this.loop = loop;
            this.channel = channel;
            this.servesOwn = servesOwn;
        }

        void start() throws IOException {
            channel.configureBlocking(false);
            CompletableFuture<Void> registered = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    key = loop.register(channel, SelectionKey.OP_ACCEPT, this);
                    registered.complete(null);
                } catch (IOException | RuntimeException e) {
                    registered.completeExceptionally(e);
                }
            });
            try {
                registered.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting " + name, e);
            } catch (ExecutionException e) {
                throw new IOException("cannot start " + name + ": " + e.getCause().getMessage(), e.getCause());
            }
        }

        @Override
        public void ready(SelectionKey key) {
            for (int i = 0; i < 64 && !closed; i++) {
                SocketChannel accepted;
                try {
                    accepted = channel.accept();
                } catch (IOException e) {
                    pause(e);
                    return;
                }
                if (accepted == null) {
                    break;
                }
                backoffNanos = FIRST_BACKOFF.toNanos();
                if (!limit.tryAcquire()) {
                    ChannelClose.withReset(accepted);
                    if (refusedSinceLastLog.getAndIncrement() % 1000 == 0) {
                        Logger.warn("{}: connection limit {} reached, resetting new connections", name, limit.max());
                    }
                    continue;
                }
                try {
                    accepted.configureBlocking(false);
                } catch (IOException e) {
                    limit.release();
                    ChannelClose.quietly(accepted);
                    continue;
                }
                if (servesOwn) {
                    hand(loop, accepted);
                } else {
                    EventLoop target = group.next();
                    target.execute(() -> hand(target, accepted));
                }
            }
        }

        private void hand(EventLoop target, SocketChannel accepted) {
            try {
                handler.accepted(target, accepted, Acceptor.this);
            } catch (RuntimeException e) {
                Logger.error(e, "{}: handler failed for a new connection", name);
                ChannelClose.quietly(accepted);
                release();
            }
        }

        private void pause(IOException cause) {
            long now = System.nanoTime();
            long until = pausedUntil.get();
            long wait;
            long backoff = backoffNanos;
            if (now - until >= 0 && pausedUntil.compareAndSet(until, now + backoff)) {
                Logger.warn("{}: accept failed ({}); pausing accepts for {} ms", name, cause.getMessage(),
                        TimeUnit.NANOSECONDS.toMillis(backoff));
                wait = backoff;
                backoffNanos = Math.min(backoff * 2, MAX_BACKOFF.toNanos());
            } else {
                // Another socket of this listener started the pause: this one waits for its end, silently.
                wait = Math.max(pausedUntil.get() - now, FIRST_BACKOFF.toNanos());
            }
            key.interestOps(0);
            loop.schedule(Duration.ofNanos(wait), () -> {
                if (!closed && key.isValid()) {
                    key.interestOps(SelectionKey.OP_ACCEPT);
                }
            });
        }

        @Override
        public void failed(Throwable cause) {
            if (!closed) {
                Logger.error("{}: listener failed: {}", name, cause.toString());
            }
        }

        void close() {
            loop.execute(() -> {
                if (key != null) {
                    key.cancel();
                }
                ChannelClose.quietly(channel);
            });
        }
    }
}
