package dev.chainsocks.server;

import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ConnectionLimit;
import dev.chainsocks.engine.EventLoopGroup;
import dev.chainsocks.log.AccessLog;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
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

    private SocksServer(SocksServerConfig config, EventLoopGroup group) {
        this.config = config;
        this.group = group;
        this.limit = new ConnectionLimit(config.maxConnections());
    }

    /**
     * Binds every listen address and starts serving. Throws {@link IllegalArgumentException} when the
     * configuration would make an open proxy on a public address, {@link IOException} when a bind fails.
     */
    public static SocksServer start(SocksServerConfig config) throws IOException {
        config.checkSafe();
        EventLoopGroup group = new EventLoopGroup("socks", config.threads());
        SocksServer server = new SocksServer(config, group);
        boolean success = false;
        try {
            for (InetSocketAddress address : config.listen()) {
                ServerSocketChannel channel = ServerSocketChannel.open(address.getAddress() instanceof Inet6Address
                        ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
                try {
                    channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    channel.bind(address, 1024);
                } catch (IOException e) {
                    channel.close();
                    throw new IOException("cannot listen on " + AccessLog.format(address) + ": " + e.getMessage(), e);
                }
                String name = "socks-server " + AccessLog.format((InetSocketAddress) channel.getLocalAddress());
                server.acceptors.add(Acceptor.start(group, channel, server.limit, name,
                        (loop, client, acceptor) -> server.accept(loop, client, acceptor)));
            }
            success = true;
        } finally {
            if (!success) {
                server.close();
            }
        }
        for (Acceptor acceptor : server.acceptors) {
            Logger.info("socks-server listening on {} (SOCKS4, SOCKS4a, SOCKS5, HTTP proxy; {}{})",
                    AccessLog.format(acceptor.localAddress()), config.users(),
                    config.allowFrom().isEmpty() ? "" : "; clients from " + config.allowFrom());
        }
        for (String warning : config.warnings()) {
            Logger.warn("socks-server: {}", warning);
        }
        return server;
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

    SocksServerConfig config() {
        return config;
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
