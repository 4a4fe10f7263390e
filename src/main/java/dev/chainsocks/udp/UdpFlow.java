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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.tinylog.Logger;

/**
 * One flow: the datagrams of one client address and port to one original destination, carried through a SOCKS5 UDP
 * ASSOCIATE on every hop of one of the listener's chains (all SOCKS5), tried in the listener's order.
 *
 * <p>Its life, in order, all on the listener's loop:
 * <ol>
 *   <li>a reply socket, {@code IP_TRANSPARENT} and bound (with {@code SO_REUSEADDR}, since several clients may talk
 *       to the same destination) to the original destination, so answers reach the client from the address it
 *       sent to; with {@code lookup = "fixed"} the client sent to the listener, whose own socket answers;</li>
 *   <li>a TCP connection to hop 1 (with {@code SO_MARK}), a UDP socket on the same local address, and the UDP
 *       ASSOCIATE handshake naming that socket; the relay's address is the granted one (the hop's own address when
 *       the relay answers with a wildcard). With more hops, for each later hop one more TCP connection to hop 1,
 *       a CONNECT through every hop before it, and its UDP ASSOCIATE naming the unspecified source (its datagrams
 *       come from the previous relay). Datagrams arriving meanwhile wait in a short queue;</li>
 *   <li>the relay: client datagrams get the SOCKS5 UDP header naming the destination, then one more per later
 *       hop naming that hop's relay (outermost: hop 2's); the relay's datagrams lose them, each checked against
 *       the relay or destination it must come from, and then go back to the client;</li>
 *   <li>the end, exactly once: idle for {@code flow-idle-timeout}, an association's TCP connection closed, evicted
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
    /** Where hop 1 is, resolved once per chain tried; every association's TCP connection goes there. */
    private InetSocketAddress firstHopAddress;
    /** Each hop's association's TCP connection, in hop order (hop 1's is direct, the others through it). */
    private final List<SocketChannel> controls = new ArrayList<>();
    /** Each hop's relay address as granted (a wildcard replaced by the hop's own address), in hop order. */
    private final List<Destination> relays = new ArrayList<>();
    /** Whether {@link #reply} is this flow's own socket (TPROXY), closed at the end, or the listener's (fixed). */
    private boolean ownReply;
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

    private ProxyHop hop(int index) {
        return chain().hops().get(index);
    }

    /** Hop 1's association first; each further hop's once the one before it has granted its own. */
    private void associate() {
        ProxyHop first = hop(0);
        listener.resolver().resolve(first.address(), address -> {
            firstHopAddress = address;
            openLevel(0);
        }, cause -> nextChain("cannot resolve " + first.address() + ": " + cause.getMessage()));
    }

    /**
     * Opens hop {@code level}'s association: a TCP connection to hop 1, a CONNECT through each hop before
     * {@code level} to the next (one inside the other, as for TCP), and the UDP ASSOCIATE on hop {@code level}.
     */
    private void openLevel(int level) {
        if (state != State.ASSOCIATING) {
            return;
        }
        TimeoutsConfig timeouts = listener.timeoutsOf(chainIndex);
        Connector.connect(loop, firstHopAddress, timeouts.connect(), channel -> {
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
                controls.add(channel);
                tunnel(level, 0, channel, null, timeouts);
            }

            @Override
            public void failed(IOException cause) {
                nextChain("connect to " + AddressSyntax.format(firstHopAddress) + " failed: " + cause.getMessage());
            }
        });
    }

    /** On {@code channel}, asks hop {@code index} for hop {@code index + 1}, up to hop {@code level}. */
    private void tunnel(int level, int index, SocketChannel channel, ByteBuffer input, TimeoutsConfig timeouts) {
        if (index == level) {
            try {
                associateOn(level, channel, input, timeouts);
            } catch (IOException | RuntimeException e) {
                nextChain("cannot open the UDP socket for the relay: " + e.getMessage());
            }
            return;
        }
        ProxyHop hop = hop(index);
        Destination next = hop(index + 1).address();
        Socks5ClientHandshake handshake;
        try {
            handshake = hop.user().isPresent()
                    ? new Socks5ClientHandshake(next, hop.user().get(), hop.password().orElse(""))
                    : new Socks5ClientHandshake(next);
        } catch (IllegalArgumentException e) {
            nextChain("hop " + (index + 1) + " cannot carry " + next + ": " + e.getMessage());
            return;
        }
        Exchange.start(loop, channel, new Exchange.Machine(handshake::receive, handshake::outbound,
                () -> handshake.outcome() != null), input, timeouts.handshake(), hop + " CONNECT " + next,
                new Exchange.Callback() {
                    @Override
                    public void finished(ByteBuffer leftover) {
                        if (state != State.ASSOCIATING) {
                            return;
                        }
                        if (handshake.outcome() instanceof HandshakeOutcome.Granted) {
                            tunnel(level, index + 1, channel, leftover, timeouts);
                        } else {
                            nextChain("hop " + (index + 1) + " CONNECT " + next + " for hop " + (index + 2)
                                    + "'s UDP ASSOCIATE: " + handshake.outcome());
                        }
                    }

                    @Override
                    public void failed(IOException cause) {
                        nextChain("hop " + (index + 1) + " CONNECT " + next + ": " + cause.getMessage());
                    }
                });
    }

    /**
     * The UDP ASSOCIATE on hop {@code level}. Hop 1's names the UDP socket our datagrams come from: the same
     * local address as the TCP connection, and that socket's port. A later hop's datagrams come from the relay
     * before it, whose address we do not know: it is asked for with the unspecified address and port, and the
     * server takes the connection's peer address (RFC 1928 section 7).
     */
    private void associateOn(int level, SocketChannel channel, ByteBuffer input, TimeoutsConfig timeouts)
            throws IOException {
        Destination source;
        if (level == 0) {
            InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
            relay = DatagramChannel.open(local.getAddress() instanceof Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            if (listener.mark().isPresent()) {
                LinuxSockets.get().setMark(relay, (int) listener.mark().getAsLong());
            }
            relay.configureBlocking(false);
            relay.bind(new InetSocketAddress(local.getAddress(), 0));
            InetSocketAddress bound = (InetSocketAddress) relay.getLocalAddress();
            source = Destination.ip(bound.getAddress(), bound.getPort());
        } else {
            source = Destination.ip(InetAddress.getByAddress(new byte[4]), 0);
        }
        ProxyHop hop = hop(level);
        Socks5ClientHandshake handshake = Socks5ClientHandshake.udpAssociate(source, hop.user().orElse(null),
                hop.password().orElse(null));
        Exchange.start(loop, channel, new Exchange.Machine(handshake::receive, handshake::outbound,
                () -> handshake.outcome() != null), input, timeouts.handshake(), hop + " UDP ASSOCIATE",
                new Exchange.Callback() {
                    @Override
                    public void finished(ByteBuffer leftover) {
                        if (state != State.ASSOCIATING) {
                            return;
                        }
                        if (handshake.outcome() instanceof HandshakeOutcome.Granted granted) {
                            granted(level, channel, granted.bound());
                        } else {
                            nextChain(level == 0 ? "UDP ASSOCIATE: " + handshake.outcome()
                                    : "hop " + (level + 1) + " UDP ASSOCIATE: " + handshake.outcome());
                        }
                    }

                    @Override
                    public void failed(IOException cause) {
                        nextChain((level == 0 ? "" : "hop " + (level + 1) + " ") + "UDP ASSOCIATE: "
                                + cause.getMessage());
                    }
                });
    }

    /**
     * Hop {@code level}'s relay is the granted address, or when that is a wildcard, the hop's own address with the
     * granted port: for hop 1 the address we are connected to, for a later hop the address the hop before it was
     * asked to connect to. Once the last hop's is known, hop 1's relay is resolved and the flow starts.
     */
    private void granted(int level, SocketChannel channel, Destination bound) {
        Destination relayDestination = bound;
        if (bound instanceof Destination.Ip ip && ip.address().isAnyLocalAddress()) {
            if (level == 0) {
                try {
                    InetSocketAddress hop = (InetSocketAddress) channel.getRemoteAddress();
                    relayDestination = Destination.ip(hop.getAddress(), ip.port());
                } catch (IOException e) {
                    nextChain("UDP ASSOCIATE: the TCP connection failed: " + e.getMessage());
                    return;
                }
            } else {
                Destination hop = hop(level).address();
                relayDestination = hop instanceof Destination.Ip address
                        ? Destination.ip(address.address(), ip.port()) : Destination.name(hop.hostString(), ip.port());
            }
        }
        relays.add(relayDestination);
        if (level + 1 < chain().hops().size()) {
            openLevel(level + 1);
            return;
        }
        Destination asked = relays.get(0);
        listener.resolver().resolve(asked, this::relayTo,
                cause -> nextChain("cannot resolve the relay address " + asked + ": " + cause.getMessage()));
    }

    private void relayTo(InetSocketAddress address) {
        if (state != State.ASSOCIATING) {
            return;
        }
        try {
            relay.connect(address);
            loop.register(relay, SelectionKey.OP_READ, new FromRelay());
            for (SocketChannel control : controls) {
                loop.register(control, SelectionKey.OP_READ, new ControlWatch(control));
            }
        } catch (IOException e) {
            nextChain("cannot use the relay " + AddressSyntax.format(address) + ": " + e.getMessage());
            return;
        }
        relayAddress = address;
        state = State.RELAYING;
        listener.started.incrementAndGet();
        String through = relays.size() == 1 ? AddressSyntax.format(address)
                : AddressSyntax.format(address) + relays.subList(1, relays.size()).stream()
                        .map(r -> ">" + r).reduce("", String::concat);
        Logger.info("udp flow {} start {} via={} relay={}{}", id, key, chain(), through,
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
        closeAssociations();
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
        // The innermost header names the destination; each further one, the next hop's relay (hop 1's relay reads
        // the outermost).
        ByteBuffer datagram = Socks5UdpDatagram.encode(
                Destination.ip(key.destination().getAddress(), key.destination().getPort()), payload);
        for (int level = relays.size() - 1; level >= 1; level--) {
            datagram = Socks5UdpDatagram.encode(relays.get(level), datagram);
        }
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
                byte[] payload = unwrap(packet);
                if (payload == null) {
                    listener.dropped.incrementAndGet();
                    continue;
                }
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

    /**
     * The payload inside a relay's datagram: one header per hop, each from the next hop's relay, the innermost
     * from this flow's destination; null when any of them is not.
     */
    private byte[] unwrap(ByteBuffer packet) {
        ByteBuffer current = packet;
        for (int level = 1; level <= relays.size(); level++) {
            Decoded<Socks5UdpDatagram> decoded = Socks5UdpDatagram.decode(current);
            if (!(decoded instanceof Decoded.Message<Socks5UdpDatagram> message)) {
                return null;
            }
            Destination from = message.message().destination();
            boolean expected = level == relays.size()
                    ? from instanceof Destination.Ip ip && ip.socketAddress().equals(key.destination())
                    : sameRelay(relays.get(level), from);
            if (!expected) {
                return null;
            }
            if (level == relays.size()) {
                return message.message().payload();
            }
            current = ByteBuffer.wrap(message.message().payload());
        }
        return null;
    }

    /** Whether a header names a hop's relay; a relay known by name is taken on the previous relay's word. */
    private static boolean sameRelay(Destination relay, Destination from) {
        return relay instanceof Destination.Name || relay.equals(from);
    }

    /** The association lasts as long as its TCP connection (RFC 1928 section 6); stray bytes are ignored. */
    private final class ControlWatch implements IoHandler {
        private final ByteBuffer sink = ByteBuffer.allocate(256);
        private final SocketChannel control;

        ControlWatch(SocketChannel control) {
            this.control = control;
        }

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

    private void closeAssociations() {
        controls.forEach(ChannelClose::quietly);
        controls.clear();
        relays.clear();
        ChannelClose.quietly(relay);
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
        closeAssociations();
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
