package dev.chainsocks.udp;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.config.TimeoutsConfig;
import dev.chainsocks.config.UdpListenerConfig;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.IoHandler;
import dev.chainsocks.engine.Resolver;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.linux.OriginalDestinationReceiver;
import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.tinylog.Logger;

/**
 * One UDP listener: a transparent socket that TPROXY hands LAN datagrams to, or with {@code lookup = "fixed"} a plain
 * socket that clients address directly, and its table of flows.
 *
 * <p>Each datagram comes with its sender and original destination ({@link OriginalDestinationReceiver}), or, fixed,
 * the configured destination stands in for the original one; the pair is a flow, and the flow carries it through its
 * own SOCKS5 UDP association ({@link UdpFlow}). The listener and all its
 * flows live on one event loop, so the table needs no lock; only the counters are read from other threads.
 *
 * <p>The table is bounded by {@code max-flows}. When it is full, a datagram for a new flow closes the least
 * recently active flow (outcome {@code evicted}) to make room: under pressure new conversations, such as the next
 * DNS query, keep working, and an evicted flow that was still in use simply opens a new association with its next
 * datagram, which UDP applications tolerate like any lost packet. The first eviction is logged; the count is in
 * {@code status}.
 */
final class UdpListener {

    /** The largest UDP payload (IPv6 jumbograms aside). */
    static final int MAX_DATAGRAM = 65_535;
    /** Datagrams taken per readiness event, so one busy socket cannot hold the loop. */
    private static final int BATCH = 64;

    private final UdpListenerConfig config;
    private final List<ProxyChain> chains;
    private final List<TimeoutsConfig> chainTimeouts;
    private final OptionalLong mark;
    private final EventLoop loop;
    private final Resolver resolver;
    private final LongSupplier flowIds;
    private final DatagramChannel channel;
    private final OriginalDestinationReceiver receiver;
    /** The loop's scratch for one datagram, shared by the listener and its flows (loop thread only). */
    final ByteBuffer packet = ByteBuffer.allocate(MAX_DATAGRAM + 512);
    /** Access order: the first entry is the least recently active flow. */
    private final LinkedHashMap<FlowKey, UdpFlow> flows = new LinkedHashMap<>(16, 0.75f, true);
    private final AtomicInteger active = new AtomicInteger();
    final AtomicLong started = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    private final AtomicLong evicted = new AtomicLong();
    final AtomicLong datagramsUp = new AtomicLong();
    final AtomicLong datagramsDown = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    private boolean evictionLogged;
    private boolean closed;

    private UdpListener(UdpListenerConfig config, List<ProxyChain> chains, List<TimeoutsConfig> chainTimeouts,
            OptionalLong mark, EventLoop loop, Executor blocking, LongSupplier flowIds, DatagramChannel channel,
            OriginalDestinationReceiver receiver) {
        this.config = config;
        this.chains = chains;
        this.chainTimeouts = chainTimeouts;
        this.mark = mark;
        this.loop = loop;
        this.resolver = new Resolver(loop, blocking);
        this.flowIds = flowIds;
        this.channel = channel;
        this.receiver = receiver;
    }

    /**
     * Binds the transparent socket on the calling thread (so a bind failure stops the start with its reason) and
     * starts receiving on {@code loop}.
     */
    static UdpListener open(UdpListenerConfig config, List<ProxyChain> chains, List<TimeoutsConfig> chainTimeouts,
            OptionalLong mark, EventLoop loop, Executor blocking, LongSupplier flowIds) throws IOException {
        DatagramChannel channel = null;
        boolean success = false;
        try {
            channel = DatagramChannel.open(config.isIpv6() ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            LinuxSockets linux = LinuxSockets.get();
            if (config.isIpv6() && config.listen().getAddress().isAnyLocalAddress()) {
                linux.setIpv6Only(channel, false);
            }
            if (config.destination().isEmpty()) {
                linux.setTransparent(channel);
                // The flows' reply sockets bind (with SO_REUSEADDR) to original destinations, which may share this
                // port; the kernel allows that only when every socket on the port has it.
                channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            }
            channel.configureBlocking(false);
            try {
                channel.bind(config.listen());
            } catch (IOException e) {
                throw new IOException("cannot listen for UDP on " + AddressSyntax.format(config.listen()) + ": "
                        + e.getMessage(), e);
            }
            OriginalDestinationReceiver receiver = OriginalDestinationReceiver.enable(channel, MAX_DATAGRAM);
            UdpListener listener = new UdpListener(config, chains, chainTimeouts, mark, loop, blocking, flowIds,
                    channel, receiver);
            DatagramChannel registered = channel;
            loop.execute(() -> {
                try {
                    loop.register(registered, SelectionKey.OP_READ, listener.new Incoming());
                } catch (IOException e) {
                    Logger.error("UDP listener {} stopped: {}", AddressSyntax.format(config.listen()), e.getMessage());
                    listener.close();
                }
            });
            success = true;
            return listener;
        } finally {
            if (!success) {
                ChannelClose.quietly(channel);
            }
        }
    }

    UdpListenerConfig config() {
        return config;
    }

    EventLoop loop() {
        return loop;
    }

    Resolver resolver() {
        return resolver;
    }

    OptionalLong mark() {
        return mark;
    }

    /** With {@code lookup = "fixed"}, flows answer from this socket: the address the client sent to. */
    DatagramChannel channel() {
        return channel;
    }

    List<ProxyChain> chains() {
        return chains;
    }

    TimeoutsConfig timeoutsOf(int chainIndex) {
        return chainTimeouts.get(chainIndex);
    }

    UdpListenerStatus status() {
        return new UdpListenerStatus(config.listen(), active.get(), config.maxFlows(), started.get(), failed.get(),
                evicted.get(), datagramsUp.get(), datagramsDown.get(), dropped.get(), config.destination());
    }

    int activeFlows() {
        return active.get();
    }

    /** Reads what is waiting: each datagram goes to its flow, which is made when it is the first of its pair. */
    private final class Incoming implements IoHandler {
        @Override
        public void ready(SelectionKey key) throws IOException {
            for (int i = 0; i < BATCH && !closed; i++) {
                packet.clear();
                OriginalDestinationReceiver.Datagram datagram = receiver.receive(packet);
                if (datagram == null) {
                    return;
                }
                packet.flip();
                if (datagram.truncated()) {
                    dropped.incrementAndGet();
                    continue;
                }
                if (config.destination().isPresent()) {
                    FlowKey flowKey = new FlowKey(datagram.source(), config.destination().get());
                    UdpFlow flow = flows.get(flowKey);
                    (flow == null ? newFlow(flowKey) : flow).fromClient(packet);
                    continue;
                }
                if (datagram.originalDestination().equals(config.listen())
                        || datagram.originalDestination().equals(channel.getLocalAddress())) {
                    // Sent to the listener itself rather than diverted by TPROXY: nowhere to carry it.
                    dropped.incrementAndGet();
                    Logger.debug("UDP listener {}: datagram from {} addressed to the listener itself, dropped",
                            AddressSyntax.format(config.listen()), AddressSyntax.format(datagram.source()));
                    continue;
                }
                FlowKey flowKey = new FlowKey(datagram.source(), datagram.originalDestination());
                UdpFlow flow = flows.get(flowKey);
                if (flow == null) {
                    flow = newFlow(flowKey);
                }
                flow.fromClient(packet);
            }
        }

        @Override
        public void failed(Throwable cause) {
            Logger.error("UDP listener {} stopped: {}", AddressSyntax.format(config.listen()), cause.getMessage());
            close();
        }
    }

    private UdpFlow newFlow(FlowKey key) {
        if (flows.size() >= config.maxFlows()) {
            Iterator<UdpFlow> oldest = flows.values().iterator();
            UdpFlow victim = oldest.next();
            evicted.incrementAndGet();
            if (!evictionLogged) {
                evictionLogged = true;
                Logger.warn("UDP listener {}: max-flows {} reached; each new flow now closes the least recently"
                        + " active one (logged once; chainsocks status counts evictions)",
                        AddressSyntax.format(config.listen()), config.maxFlows());
            }
            victim.end(FlowEnd.EVICTED, "flow table full");
        }
        UdpFlow flow = new UdpFlow(flowIds.getAsLong(), this, key);
        flows.put(key, flow);
        active.incrementAndGet();
        flow.start();
        return flow;
    }

    /** A flow has ended: its place in the table is free. */
    void ended(UdpFlow flow) {
        if (flows.remove(flow.key(), flow)) {
            active.decrementAndGet();
        }
    }

    /** Loop thread only: closes every flow and the socket. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        ChannelClose.quietly(channel);
        List<UdpFlow> open = new ArrayList<>(flows.values());
        for (UdpFlow flow : open) {
            flow.end(FlowEnd.CLOSED, "listener closed");
        }
        flows.clear();
        active.set(0);
    }

    /** Whether this listener may stay as it is under a new configuration. */
    boolean sameAs(UdpListenerConfig otherConfig, List<ProxyChain> otherChains, List<TimeoutsConfig> otherTimeouts,
                   OptionalLong otherMark) {
        return config.equals(otherConfig) && chains.equals(otherChains) && chainTimeouts.equals(otherTimeouts)
                && mark.equals(otherMark);
    }

    @Override
    public String toString() {
        return "UDP listener " + AddressSyntax.format(config.listen());
    }
}
