package dev.chainsocks.server;

import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.IoHandler;
import dev.chainsocks.engine.Resolver;
import dev.chainsocks.engine.Timer;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.socks5.Socks5UdpDatagram;
import dev.chainsocks.syntax.DurationSyntax;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tinylog.Logger;

/**
 * A SOCKS5 UDP ASSOCIATE (RFC 1928 section 7): datagrams from the client carry a header naming their
 * destination; we strip it and send the payload on; answers come back with a header naming their source.
 *
 * <p>Only datagrams from the client's own IP address are relayed, and once the first one arrives only from that
 * port. Only addresses the client has sent to may answer, so knowing the relay's port is not enough to reach
 * the client. Fragments (FRAG != 0) are dropped, as the RFC allows for servers that do not reassemble. The association
 * lives as long as the TCP control connection: EOF there ends it.
 */
final class UdpAssociation {

    private static final int MAX_DATAGRAM = 65_535;
    /** How many recent destinations may answer; the oldest is forgotten first. */
    private static final int MAX_PEERS = 1024;

    private final ServerSession session;
    private final EventLoop loop;
    private final SocksServer server;
    private final DatagramChannel clientSide;
    private final DatagramChannel remoteSide;
    private final InetAddress clientIp;
    private final int expectedClientPort;
    private final ByteBuffer packet = ByteBuffer.allocate(MAX_DATAGRAM + 512);
    /** Destinations the client sent to: only they may send back (like a port-restricted NAT). */
    private final Map<InetSocketAddress, Boolean> contacted = new LinkedHashMap<>();
    private final Resolver resolver;
    private InetSocketAddress clientUdp;
    private SocketChannel control;
    private Timer idleTimer;
    private long lastActivity;
    private long bytesUp;
    private long bytesDown;
    private long dropped;
    private boolean closed;

    private UdpAssociation(ServerSession session, EventLoop loop, SocksServer server, DatagramChannel clientSide,
            DatagramChannel remoteSide, InetAddress clientIp, int expectedClientPort) {
        this.session = session;
        this.loop = loop;
        this.server = server;
        this.clientSide = clientSide;
        this.remoteSide = remoteSide;
        this.clientIp = clientIp;
        this.expectedClientPort = expectedClientPort;
        this.resolver = new Resolver(loop, server.group().blocking());
    }

    static UdpAssociation open(ServerSession session, EventLoop loop, SocksServer server, InetAddress localIp,
            InetAddress clientIp, Destination requested) throws IOException {
        DatagramChannel clientSide = null;
        DatagramChannel remoteSide = null;
        boolean success = false;
        try {
            clientSide = DatagramChannel.open(localIp instanceof Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            clientSide.bind(new InetSocketAddress(localIp, 0));
            clientSide.configureBlocking(false);
            remoteSide = DatagramChannel.open();
            remoteSide.bind(null);
            remoteSide.configureBlocking(false);
            success = true;
            return new UdpAssociation(session, loop, server, clientSide, remoteSide, clientIp, requested.port());
        } finally {
            if (!success) {
                ChannelClose.quietly(clientSide);
                ChannelClose.quietly(remoteSide);
            }
        }
    }

    InetSocketAddress clientFacingAddress() throws IOException {
        return (InetSocketAddress) clientSide.getLocalAddress();
    }

    /** Starts relaying on the loop; {@code controlChannel} is the client's TCP connection. */
    void run(SocketChannel controlChannel) {
        this.control = controlChannel;
        try {
            loop.register(clientSide, SelectionKey.OP_READ, new FromClient());
            loop.register(remoteSide, SelectionKey.OP_READ, new FromRemote());
            loop.register(control, SelectionKey.OP_READ, new ControlWatch());
        } catch (IOException e) {
            end("cannot start the UDP relay: " + e.getMessage());
            return;
        }
        lastActivity = loop.now();
        Duration idle = server.config().idleTimeout();
        if (!idle.isZero()) {
            idleTimer = loop.schedule(idle, this::checkIdle);
        }
    }

    private void checkIdle() {
        Duration idle = server.config().idleTimeout();
        long idleFor = loop.now() - lastActivity;
        if (idleFor >= idle.toNanos()) {
            end("idle timeout " + DurationSyntax.format(idle));
        } else {
            idleTimer = loop.schedule(Duration.ofNanos(idle.toNanos() - idleFor), this::checkIdle);
        }
    }

    private final class FromClient implements IoHandler {
        @Override
        public void ready(SelectionKey key) throws IOException {
            for (int i = 0; i < 64 && !closed; i++) {
                packet.clear();
                InetSocketAddress sender = (InetSocketAddress) clientSide.receive(packet);
                if (sender == null) {
                    return;
                }
                packet.flip();
                if (!acceptSender(sender)) {
                    dropped++;
                    continue;
                }
                Decoded<Socks5UdpDatagram> decoded = Socks5UdpDatagram.decode(packet);
                if (!(decoded instanceof Decoded.Message<Socks5UdpDatagram> message)) {
                    dropped++;
                    if (decoded instanceof Decoded.Malformed<Socks5UdpDatagram> malformed) {
                        Logger.debug("UDP association of session {}: dropped a datagram: {}", session.id(),
                                malformed.reason());
                    }
                    continue;
                }
                Socks5UdpDatagram datagram = message.message();
                forward(datagram.destination(), ByteBuffer.wrap(datagram.payload()));
            }
        }

        @Override
        public void failed(Throwable cause) {
            end("UDP client side failed: " + cause.getMessage());
        }
    }

    private boolean acceptSender(InetSocketAddress sender) {
        if (!sender.getAddress().equals(clientIp)) {
            return false;
        }
        if (clientUdp == null) {
            if (expectedClientPort != 0 && sender.getPort() != expectedClientPort) {
                return false;
            }
            clientUdp = sender;
            return true;
        }
        return clientUdp.equals(sender);
    }

    private void forward(Destination destination, ByteBuffer payload) throws IOException {
        if (destination instanceof Destination.Ip ip) {
            send(ip.socketAddress(), payload);
            return;
        }
        ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
        resolver.resolve(destination, target -> {
            try {
                if (!closed) {
                    send(target, copy);
                }
            } catch (IOException e) {
                dropped++;
            }
        }, failure -> dropped++);
    }

    private void send(InetSocketAddress target, ByteBuffer payload) throws IOException {
        int size = payload.remaining();
        if (contacted.size() >= MAX_PEERS && !contacted.containsKey(target)) {
            contacted.remove(contacted.keySet().iterator().next());
        }
        contacted.put(target, Boolean.TRUE);
        if (remoteSide.send(payload, target) > 0) {
            bytesUp += size;
            lastActivity = loop.now();
        } else {
            dropped++;
        }
    }

    private final class FromRemote implements IoHandler {
        @Override
        public void ready(SelectionKey key) throws IOException {
            for (int i = 0; i < 64 && !closed; i++) {
                packet.clear();
                InetSocketAddress source = (InetSocketAddress) remoteSide.receive(packet);
                if (source == null) {
                    return;
                }
                packet.flip();
                if (clientUdp == null || !contacted.containsKey(source)) {
                    dropped++;
                    continue;
                }
                int size = packet.remaining();
                ByteBuffer answer = Socks5UdpDatagram.encode(Destination.ip(source.getAddress(), source.getPort()), packet);
                if (clientSide.send(answer, clientUdp) > 0) {
                    bytesDown += size;
                    lastActivity = loop.now();
                } else {
                    dropped++;
                }
            }
        }

        @Override
        public void failed(Throwable cause) {
            end("UDP remote side failed: " + cause.getMessage());
        }
    }

    /** The TCP control connection: its end is the association's end. Stray bytes on it are discarded. */
    private final class ControlWatch implements IoHandler {
        private final ByteBuffer sink = ByteBuffer.allocate(512);

        @Override
        public void ready(SelectionKey key) throws IOException {
            sink.clear();
            if (control.read(sink) < 0) {
                end("ok");
            }
        }

        @Override
        public void failed(Throwable cause) {
            end("control connection failed: " + cause.getMessage());
        }
    }

    void close() {
        end("server shutting down");
    }

    private void end(String outcome) {
        if (closed) {
            return;
        }
        closed = true;
        if (idleTimer != null) {
            idleTimer.cancel();
        }
        ChannelClose.quietly(clientSide);
        ChannelClose.quietly(remoteSide);
        if (dropped > 0) {
            Logger.debug("UDP association of session {} dropped {} datagram(s)", session.id(), dropped);
        }
        session.associationEnded(bytesUp, bytesDown, outcome);
    }
}
