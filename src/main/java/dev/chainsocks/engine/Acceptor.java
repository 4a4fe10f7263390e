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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.tinylog.Logger;

/**
 * Accepts connections on one listening socket and hands each to the next loop of the group.
 *
 * <p>When accept fails (typically EMFILE/ENFILE: out of file descriptors) it stops accepting for a while, doubling
 * the pause up to a cap, instead of spinning on a socket that stays readable. Above the connection limit a new
 * connection is reset at once, so its client learns quickly instead of waiting in the backlog.
 */
public final class Acceptor implements IoHandler, AutoCloseable {

    /** Receives an accepted, non-blocking channel on the loop that will own it. */
    public interface Handler {
        void accepted(EventLoop loop, SocketChannel channel, Acceptor acceptor);
    }

    private static final Duration FIRST_BACKOFF = Duration.ofMillis(10);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);

    private final EventLoop acceptLoop;
    private final EventLoopGroup group;
    private final ServerSocketChannel server;
    private final Handler handler;
    private final ConnectionLimit limit;
    private final String name;
    private SelectionKey key;
    private Duration backoff = FIRST_BACKOFF;
    private long refusedSinceLastLog;
    private volatile boolean closed;

    private Acceptor(EventLoopGroup group, ServerSocketChannel server, Handler handler, ConnectionLimit limit,
            String name) {
        this.group = group;
        this.acceptLoop = group.loops().get(0);
        this.server = server;
        this.handler = handler;
        this.limit = limit;
        this.name = name;
    }

    /**
     * Opens a listening socket: {@code setup} runs on the unbound channel (socket options such as SO_REUSEADDR,
     * IP_TRANSPARENT), then it binds with the given backlog. The one way listeners are opened, for the redirector
     * and the bundled server alike. On failure the channel is closed and the exception names the address.
     */
    public static ServerSocketChannel bind(InetSocketAddress address, int backlog, ListenerSetup setup)
            throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(address.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        boolean success = false;
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
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
     * finishes building what the handler needs, then calls {@link #start()}. Connections count against the limit
     * until the handler calls {@link #release()} once for each.
     */
    public static Acceptor create(EventLoopGroup group, ServerSocketChannel server, ConnectionLimit limit,
            String name, Handler handler) {
        return new Acceptor(group, server, handler, limit, name);
    }

    /** Starts accepting; returns once the socket is registered on the accept loop. */
    public void start() throws IOException {
        server.configureBlocking(false);
        CompletableFuture<Void> registered = new CompletableFuture<>();
        acceptLoop.execute(() -> {
            try {
                key = acceptLoop.register(server, SelectionKey.OP_ACCEPT, this);
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

    public InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    /** A connection handed out by this acceptor has ended. */
    public void release() {
        limit.release();
    }

    @Override
    public void ready(SelectionKey key) {
        for (int i = 0; i < 64 && !closed; i++) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                pause(e);
                return;
            }
            if (channel == null) {
                break;
            }
            backoff = FIRST_BACKOFF;
            if (!limit.tryAcquire()) {
                ChannelClose.withReset(channel);
                if (refusedSinceLastLog++ % 1000 == 0) {
                    Logger.warn("{}: connection limit {} reached, resetting new connections", name, limit.max());
                }
                continue;
            }
            EventLoop loop = group.next();
            try {
                channel.configureBlocking(false);
            } catch (IOException e) {
                limit.release();
                ChannelClose.quietly(channel);
                continue;
            }
            loop.execute(() -> {
                try {
                    handler.accepted(loop, channel, this);
                } catch (RuntimeException e) {
                    Logger.error(e, "{}: handler failed for a new connection", name);
                    ChannelClose.quietly(channel);
                    release();
                }
            });
        }
    }

    private void pause(IOException cause) {
        Logger.warn("{}: accept failed ({}); pausing accepts for {} ms", name, cause.getMessage(), backoff.toMillis());
        key.interestOps(0);
        acceptLoop.schedule(backoff, () -> {
            if (!closed && key.isValid()) {
                key.interestOps(SelectionKey.OP_ACCEPT);
            }
        });
        Duration doubled = backoff.multipliedBy(2);
        backoff = doubled.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : doubled;
    }

    @Override
    public void failed(Throwable cause) {
        if (!closed) {
            Logger.error("{}: listener failed: {}", name, cause.toString());
        }
    }

    /** Stops accepting and closes the listening socket; connections already handed out carry on. */
    @Override
    public void close() {
        closed = true;
        acceptLoop.execute(() -> {
            if (key != null) {
                key.cancel();
            }
            ChannelClose.quietly(server);
        });
    }

    @Override
    public String toString() {
        return name;
    }
}
