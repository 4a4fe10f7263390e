package dev.chainsocks.server;

import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.ConnectionLimit;
import dev.chainsocks.engine.EventLoopGroup;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.socks5.Socks5GssapiProtection;
import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.tinylog.Logger;

/**
 * The bundled proxy server: SOCKS4, SOCKS4a, SOCKS5 (CONNECT, BIND, UDP ASSOCIATE; no-auth and RFC 1929
 * username/password) and an HTTP proxy (CONNECT tunnels and absolute-form requests), all on the same port.
 *
 * <p>Used standalone by {@code chainsocks socks-server} and in-process by tests:
 * <pre>{@code
 * try (SocksServer server = SocksServer.start(SocksServerConfig.loopback())) {
 *     int port = server.port();
 *     ...
 * }
 * }</pre>
 */
public final class SocksServer implements AutoCloseable {

    private final SocksServerConfig config;
    private final EventLoopGroup group;
    private final List<Acceptor> acceptors = new ArrayList<>();
    private final Set<ServerSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicLong accepted = new AtomicLong();
    private final ConnectionLimit limit;
    private final OwnListeners ownListeners;
    private final Supplier<GssapiContext> gssapiContexts;

    private SocksServer(SocksServerConfig config, EventLoopGroup group, OwnListeners ownListeners) {
        this.config = config;
        this.gssapiContexts = config.gssapi().map(GssapiAcceptance::contexts).orElse(null);
        this.group = group;
        this.ownListeners = ownListeners;
        this.limit = new ConnectionLimit(config.maxConnections());
    }

    /**
     * Binds every listen address and starts serving. Throws {@link IllegalArgumentException} when the
     * configuration would make an open proxy on a public address, {@link IOException} when a bind fails.
     */
    public static SocksServer start(SocksServerConfig config) throws IOException {
        config.checkSafe();
        // Every address is bound before the first accept, so every session knows all of the server's own ports.
        List<ServerSocketChannel> channels = bindAll(config.listen());
        List<InetSocketAddress> bound = new ArrayList<>();
        SocksServer server = null;
        int handedOver = 0;
        try {
            for (ServerSocketChannel channel : channels) {
                bound.add((InetSocketAddress) channel.getLocalAddress());
            }
            server = new SocksServer(config, new EventLoopGroup("socks", config.threads()), OwnListeners.of(bound));
            for (ServerSocketChannel channel : channels) {
                String name = "socks-server " + AddressSyntax.format((InetSocketAddress) channel.getLocalAddress());
                Acceptor acceptor = Acceptor.create(server.group, channel, server.limit, name, server::accept);
                server.acceptors.add(acceptor);
                handedOver++;
                acceptor.start();
            }
        } finally {
            if (handedOver < channels.size()) {
                channels.subList(handedOver, channels.size()).forEach(ChannelClose::quietly);
                if (server != null) {
                    server.close();
                }
            }
        }
        for (Acceptor acceptor : server.acceptors) {
            Logger.info("socks-server listening on {} (SOCKS4, SOCKS4a, SOCKS5, HTTP proxy; {}{})",
                    AddressSyntax.format(acceptor.localAddress()), config.gssapi().map(g -> g + (config.users()
                            .required() ? "; " + config.users() : "")).orElse(String.valueOf(config.users())),
                    config.allowFrom().isEmpty() ? "" : "; clients from " + config.allowFrom());
        }
        for (String warning : config.warnings()) {
            Logger.warn("socks-server: {}", warning);
        }
        return server;
    }

    /** Opens and binds each address; on a failure closes those already bound. */
    private static List<ServerSocketChannel> bindAll(List<InetSocketAddress> addresses) throws IOException {
        List<ServerSocketChannel> channels = new ArrayList<>();
        boolean success = false;
        try {
            for (InetSocketAddress address : addresses) {
                channels.add(Acceptor.bind(address, 1024, Acceptor.ListenerSetup.NONE));
            }
            success = true;
            return channels;
        } finally {
            if (!success) {
                channels.forEach(ChannelClose::quietly);
            }
        }
    }

    private void accept(dev.chainsocks.engine.EventLoop loop, java.nio.channels.SocketChannel client,
            Acceptor acceptor) {
        accepted.incrementAndGet();
        ServerSession session = new ServerSession(this, loop, client, acceptor);
        sessions.add(session);
        session.start();
    }

    void sessionEnded(ServerSession session) {
        sessions.remove(session);
    }

    /** Fresh GSS-API acceptor contexts, or null when the server offers no GSS-API. */
    Supplier<GssapiContext> gssapiContexts() {
        return gssapiContexts;
    }

    /** The least per-message protection agreed with a GSS-API client. */
    Socks5GssapiProtection gssapiMinimumProtection() {
        return config.gssapi().map(GssapiAcceptance::minimumProtection).orElse(Socks5GssapiProtection.NONE);
    }

    SocksServerConfig config() {
        return config;
    }

    /** The listener a connection to {@code target} would arrive at: this server itself. */
    Optional<InetSocketAddress> ownListenerReachedBy(InetSocketAddress target) {
        return ownListeners.reachedBy(target);
    }

    EventLoopGroup group() {
        return group;
    }

    /** The port of the first listener (the one picked by the kernel when it was 0). */
    public int port() {
        return acceptors.get(0).localAddress().getPort();
    }

    public List<InetSocketAddress> boundAddresses() {
        return acceptors.stream().map(Acceptor::localAddress).toList();
    }

    /** Connections accepted since start. */
    public long acceptedConnections() {
        return accepted.get();
    }

    /** Connections open now, in handshake or relay. */
    public int activeConnections() {
        return sessions.size();
    }

    @Override
    public void close() {
        for (Acceptor acceptor : acceptors) {
            acceptor.close();
        }
        for (ServerSession session : sessions) {
            session.abort();
        }
        group.close();
    }
}
