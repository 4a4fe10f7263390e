package dev.chainsocks.udp;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.config.TimeoutsConfig;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.Exchange;
import dev.chainsocks.engine.IoHandler;
import dev.chainsocks.engine.Timer;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.socks5.Socks5ClientHandshake;
import dev.chainsocks.proto.socks5.Socks5UdpDatagram;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.DurationSyntax;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import org.tinylog.Logger;

/**
 * One flow: the datagrams of one client address and port to one original destination, carried through a SOCKS5 UDP
 * ASSOCIATE on the single hop of one of the listener's chains, in the listener's order.
 *
 * <p>Its life, in order, all on the listener's loop:
 * <ol>
 *   <li>a reply socket, {@code IP_TRANSPARENT} and bound (with {@code SO_REUSEADDR}, since several clients may talk
 *       to the same destination) to the original destination, so answers reach the client from the address it
 *       sent to; with {@code lookup = "fixed"} the client sent to the listener, whose own socket answers;</li>
 *   <li>a TCP connection to the hop (with {@code SO_MARK}), a UDP socket on the same local address, and the UDP
 *       ASSOCIATE handshake naming that socket; the relay's address is the granted one (the hop's own address when
 *       the relay answers with a wildcard). Datagrams arriving meanwhile wait in a short queue;</li>
 *   <li>the relay: client datagrams get the SOCKS5 UDP header naming the destination; the relay's datagrams lose
 *       it and, when they come from that destination, go back to the client;</li>
 *   <li>the end, exactly once: idle for {@code flow-idle-timeout}, the association's TCP connection closed, evicted
 *       from a full table, a failure, or the listener closing. One {@code start} and one {@code end} line, or one
 *       {@code failed} line when no association opened.</li>
 * </ol>
 */
final class UdpFlow {

    private enum State { ASSOCIATING, RELAYING, ENDED }

    /** Datagrams kept while the association opens; more are dropped, as a full socket buffer would. */
    private static final int MAX_QUEUED = 32;

    private final long id;
    private final UdpListener listener;
    private final FlowKey key;
    private final EventLoop loop;
    private final long startNanos;
    private final ArrayDeque<ByteBuffer> queued = new ArrayDeque<>();
    private State state = State.ASSOCIATING;
    private int chainIndex;
    /** Why the chains tried so far did not give an association, in order. */
    private String failures = "no chain tried";
    private DatagramChannel reply;
    /** Whether {@link #reply} is this flow's own socket (TPROXY), closed at the end, or the listener's (fixed). */
    private boolean ownReply;
    private SocketChannel control;
    private DatagramChannel relay;
    private InetSocketAddress relayAddress;
    private Timer idleTimer;
    private long lastActivity;
    private long bytesUp;
    private long bytesDown;
    private long datagramsUp;
    private long datagramsDown;

    UdpFlow(long id, UdpListener listener, FlowKey key) {
        this.id = id;
        this.listener = listener;
        this.key = key;
        this.loop = listener.loop();
        this.startNanos = System.nanoTime();
        this.lastActivity = loop.now();
    }

    FlowKey key() {
        return key;
    }

    /** Opens the reply socket and asks the first chain for an association. */
    void start() {
        try {
            if (listener.config().destination().isPresent()) {
                reply = listener.channel();
            } else {
                reply = openReplySocket(key.destination());
                ownReply = true;
            }
        } catch (IOException | RuntimeException e) {
            failures = "cannot send replies from " + AddressSyntax.format(key.destination()) + ": " + e.getMessage();
            end(FlowEnd.FAILED, failures);
            return;
        }
        Duration idle = listener.config().flowIdle();
        idleTimer = loop.schedule(idle, this::checkIdle);
        associate();
    }

    private static DatagramChannel openReplySocket(InetSocketAddress from) throws IOException {
        DatagramChannel channel = DatagramChannel.open(from.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        boolean success = false;
        try {
            LinuxSockets.get().setTransparent(channel);
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.configureBlocking(false);
            channel.bind(from);
            success = true;
            return channel;
        } finally {
            if (!success) {
                ChannelClose.quietly(channel);
            }
        }
    }

    private ProxyChain chain() {
        return listener.chains().get(chainIndex);
    }

    private void associate() {
        ProxyChain chain = chain();
        ProxyHop hop = chain.hops().get(0);
        listener.resolver().resolve(hop.address(), this::connect,
                cause -> nextChain("cannot resolve " + hop.address() + ": " + cause.getMessage()));
    }

    private void connect(InetSocketAddress hopAddress) {
        if (state != State.ASSOCIATING) {
            return;
        }
        TimeoutsConfig timeouts = listener.timeoutsOf(chainIndex);
        Connector.connect(loop, hopAddress, timeouts.connect(), channel -> {
            if (listener.mark().isPresent()) {
                LinuxSockets.get().setMark(channel, (int) listener.mark().getAsLong());
            }
        }, new Connector.Callback() {
            @Override
            public void connected(SocketChannel channel) {
                if (state != State.ASSOCIATING) {
                    ChannelClose.quietly(channel);
                    return;
                }
                control = channel;
                try {
                    handshake(timeouts);
                } catch (IOException | RuntimeException e) {
                    nextChain("cannot open the UDP socket for the relay: " + e.getMessage());
                }
            }

            @Override
            public void failed(IOException cause) {
                nextChain("connect to " + AddressSyntax.format(hopAddress) + " failed: " + cause.getMessage());
            }
        });
    }

    private void handshake(TimeoutsConfig timeouts) throws IOException {
        InetSocketAddress local = (InetSocketAddress) control.getLocalAddress();
        relay = DatagramChannel.open(local.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        if (listener.mark().isPresent()) {
            LinuxSockets.get().setMark(relay, (int) listener.mark().getAsLong());
        }
        relay.configureBlocking(false);
        // The relay accepts datagrams from the address the association was asked from: the same local address as
        // the TCP connection, and this socket's port.
        relay.bind(new InetSocketAddress(local.getAddress(), 0));
        InetSocketAddress source = (InetSocketAddress) relay.getLocalAddress();
        ProxyHop hop = chain().hops().get(0);
        Socks5ClientHandshake handshake = Socks5ClientHandshake.udpAssociate(
                Destination.ip(source.getAddress(), source.getPort()), hop.user().orElse(null),
                hop.password().orElse(null));
        Exchange.start(loop, control, new Exchange.Machine(handshake::receive, handshake::outbound,
                () -> handshake.outcome() != null), null, timeouts.handshake(), hop + " UDP ASSOCIATE",
                new Exchange.Callback() {
                    @Override
                    public void finished(ByteBuffer leftover) {
                        if (state != State.ASSOCIATING) {
                            return;
                        }
                        if (handshake.outcome() instanceof HandshakeOutcome.Granted granted) {
                            granted(granted.bound());
                        } else {
                            nextChain("UDP ASSOCIATE: " + handshake.outcome());
                        }
                    }

                    @Override
                    public void failed(IOException cause) {
                        nextChain("UDP ASSOCIATE: " + cause.getMessage());
                    }
                });
    }

    /** The relay's address is the granted one, or the hop's own address with that port when it is a wildcard. */
    private void granted(Destination bound) {
        Destination relayDestination = bound;
        if (bound instanceof Destination.Ip ip && ip.address().isAnyLocalAddress()) {
            try {
                InetSocketAddress hop = (InetSocketAddress) control.getRemoteAddress();
                relayDestination = Destination.ip(hop.getAddress(), ip.port());
            } catch (IOException e) {
                nextChain("UDP ASSOCIATE: the TCP connection failed: " + e.getMessage());
                return;
            }
        }
        Destination asked = relayDestination;
        listener.resolver().resolve(relayDestination, this::relayTo,
                cause -> nextChain("cannot resolve the relay address " + asked + ": " + cause.getMessage()));
    }

    private void relayTo(InetSocketAddress address) {
        if (state != State.ASSOCIATING) {
            return;
        }
        try {
            relay.connect(address);
            loop.register(relay, SelectionKey.OP_READ, new FromRelay());
            loop.register(control, SelectionKey.OP_READ, new ControlWatch());
        } catch (IOException e) {
            nextChain("cannot use the relay " + AddressSyntax.format(address) + ": " + e.getMessage());
            return;
        }
        relayAddress = address;
        state = State.RELAYING;
        listener.started.incrementAndGet();
        Logger.info("udp flow {} start {} via={} relay={}{}", id, key, chain(), AddressSyntax.format(address),
                chainIndex == 0 ? "" : " (after " + failures + ")");
        while (!queued.isEmpty() && state == State.RELAYING) {
            sendUp(queued.poll());
        }
    }

    /** This chain did not work: close what it opened and try the next, or fail the flow. */
    private void nextChain(String reason) {
        if (state != State.ASSOCIATING) {
            return;
        }
        String failure = "chain " + chain().name() + ": " + reason;
        failures = chainIndex == 0 ? failure : failures + "; " + failure;
        ChannelClose.quietly(control);
        ChannelClose.quietly(relay);
        control = null;
        relay = null;
        if (chainIndex + 1 < listener.chains().size()) {
            Logger.debug("udp flow {} {}: {}; trying the next chain", id, key, failures);
            chainIndex++;
            associate();
        } else {
            end(FlowEnd.FAILED, failures);
        }
    }

    /** A datagram from the client ({@code payload} in read mode, the listener's scratch buffer). */
    void fromClient(ByteBuffer payload) {
        lastActivity = loop.now();
        switch (state) {
            case ASSOCIATING -> {
                if (queued.size() < MAX_QUEUED) {
                    queued.add(ByteBuffer.allocate(payload.remaining()).put(payload).flip());
                } else {
                    listener.dropped.incrementAndGet();
                }
            }
            case RELAYING -> sendUp(payload);
            case ENDED -> listener.dropped.incrementAndGet();
        }
    }

    private void sendUp(ByteBuffer payload) {
        int size = payload.remaining();
        ByteBuffer datagram = Socks5UdpDatagram.encode(
                Destination.ip(key.destination().getAddress(), key.destination().getPort()), payload);
        try {
            if (relay.write(datagram) > 0) {
                bytesUp += size;
                datagramsUp++;
                listener.datagramsUp.incrementAndGet();
            } else {
                listener.dropped.incrementAndGet();
            }
        } catch (IOException e) {
            end(FlowEnd.FAILED, "sending to the relay " + AddressSyntax.format(relayAddress) + ": " + e.getMessage());
        }
    }

    /** The relay's datagrams: only those from this flow's destination go back to the client. */
    private final class FromRelay implements IoHandler {
        @Override
        public void ready(SelectionKey selectionKey) throws IOException {
            ByteBuffer packet = listener.packet;
            for (int i = 0; i < 64 && state == State.RELAYING; i++) {
                packet.clear();
                int n = relay.read(packet);
                if (n <= 0) {
                    return;
                }
                packet.flip();
                Decoded<Socks5UdpDatagram> decoded = Socks5UdpDatagram.decode(packet);
                if (!(decoded instanceof Decoded.Message<Socks5UdpDatagram> message)
                        || !(message.message().destination() instanceof Destination.Ip from)
                        || !from.socketAddress().equals(key.destination())) {
                    listener.dropped.incrementAndGet();
                    continue;
                }
                byte[] payload = message.message().payload();
                if (reply.send(ByteBuffer.wrap(payload), key.client()) > 0) {
                    lastActivity = loop.now();
                    bytesDown += payload.length;
                    datagramsDown++;
                    listener.datagramsDown.incrementAndGet();
                } else {
                    listener.dropped.incrementAndGet();
                }
            }
        }

        @Override
        public void failed(Throwable cause) {
            end(FlowEnd.FAILED, "relay " + AddressSyntax.format(relayAddress) + ": " + cause.getMessage());
        }
    }

    /** The association lasts as long as its TCP connection (RFC 1928 section 6); stray bytes are ignored. */
    private final class ControlWatch implements IoHandler {
        private final ByteBuffer sink = ByteBuffer.allocate(256);

        @Override
        public void ready(SelectionKey selectionKey) throws IOException {
            sink.clear();
            if (control.read(sink) < 0) {
                end(FlowEnd.ASSOCIATION_CLOSED, "the proxy closed the association's TCP connection");
            }
        }

        @Override
        public void failed(Throwable cause) {
            end(FlowEnd.ASSOCIATION_CLOSED, "the association's TCP connection failed: " + cause.getMessage());
        }
    }

    private void checkIdle() {
        if (state == State.ENDED) {
            return;
        }
        Duration idle = listener.config().flowIdle();
        long idleFor = loop.now() - lastActivity;
        if (idleFor >= idle.toNanos()) {
            end(FlowEnd.IDLE, "no datagram for " + DurationSyntax.format(idle));
        } else {
            idleTimer = loop.schedule(Duration.ofNanos(idle.toNanos() - idleFor), this::checkIdle);
        }
    }

    /** Ends the flow once: closes its sockets, frees its place in the table, and writes its last line. */
    void end(FlowEnd outcome, String detail) {
        if (state == State.ENDED) {
            return;
        }
        boolean relayed = state == State.RELAYING;
        state = State.ENDED;
        if (idleTimer != null) {
            idleTimer.cancel();
        }
        ChannelClose.quietly(control);
        ChannelClose.quietly(relay);
        if (ownReply) {
            ChannelClose.quietly(reply);
        }
        queued.clear();
        listener.ended(this);
        long elapsedMillis = Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
        if (relayed) {
            Logger.info("udp flow {} end {} via={} up={}B/{}dg down={}B/{}dg elapsed={}ms outcome={}{}", id, key,
                    chain(), bytesUp, datagramsUp, bytesDown, datagramsDown, elapsedMillis, outcome,
                    outcome == FlowEnd.IDLE ? "" : " (" + detail + ")");
        } else {
            if (outcome == FlowEnd.FAILED) {
                listener.failed.incrementAndGet();
            }
            Logger.warn("udp flow {} {} {} after {}ms: {}", id, outcome == FlowEnd.FAILED ? "failed" : "ended",
                    key, elapsedMillis, outcome == FlowEnd.FAILED ? detail : outcome + " (" + detail + ")");
        }
    }

    @Override
    public String toString() {
        return "udp flow " + id + " " + key;
    }
}
