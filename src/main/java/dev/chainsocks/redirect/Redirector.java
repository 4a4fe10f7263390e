package dev.chainsocks.redirect;

import dev.chainsocks.chain.ChainSelector;
import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ListenerConfig;
import dev.chainsocks.config.LookupKind;
import dev.chainsocks.config.TimeoutsConfig;
import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ConnectionLimit;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.EventLoopGroup;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.log.AccessLog;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.tinylog.Logger;

/**
 * The transparent redirector ({@code chainsocks run}): listeners that take connections the firewall redirected,
 * each with its lookup and its chain policy, on one shared event-loop group.
 */
public final class Redirector implements AutoCloseable {

    /** One listening socket with what it needs per connection. */
    record ListenerRuntime(ListenerConfig config, Acceptor acceptor, OriginalDestinationLookup lookup,
            ChainSelector selector) {
    }

    private final ChainsocksConfig config;
    private final EventLoopGroup group;
    private final ConnectionLimit limit;
    private final LoopGuard loopGuard = new LoopGuard();
    private final Counters counters = new Counters();
    private final Map<Long, RedirectSession> sessions = new ConcurrentHashMap<>();
    private final List<ListenerRuntime> listeners = new ArrayList<>();
    private final Connector.SocketSetup upstreamSetup;
    private final long startedNanos = System.nanoTime();

    private Redirector(ChainsocksConfig config, EventLoopGroup group, Connector.SocketSetup upstreamSetup) {
        this.config = config;
        this.group = group;
        this.limit = new ConnectionLimit(config.service().maxConnections());
        this.upstreamSetup = upstreamSetup;
    }

    /** Starts with the kernel's lookups (SO_ORIGINAL_DST or TPROXY) and SO_MARK when configured. */
    public static Redirector start(ChainsocksConfig config) throws IOException {
        return start(config, kind -> kind == LookupKind.TPROXY
                ? OriginalDestinationLookup.tproxy() : OriginalDestinationLookup.netfilter());
    }

    /** Starts with the given lookups: tests pass a fixed one to run without netfilter. */
    public static Redirector start(ChainsocksConfig config, Function<LookupKind, OriginalDestinationLookup> lookups)
            throws IOException {
        Connector.SocketSetup setup = Connector.SocketSetup.NONE;
        if (config.service().mark().isPresent()) {
            int mark = (int) config.service().mark().getAsLong();
            LinuxSockets sockets = LinuxSockets.get();
            setup = channel -> sockets.setMark(channel, mark);
        }
        EventLoopGroup group = new EventLoopGroup("redirect", EventLoopGroup.defaultThreads());
        Redirector redirector = new Redirector(config, group, setup);
        boolean success = false;
        try {
            for (ListenerConfig listener : config.listeners()) {
                redirector.listen(listener, lookups.apply(listener.lookup()));
            }
            success = true;
        } finally {
            if (!success) {
                redirector.close();
            }
        }
        return redirector;
    }

    private void listen(ListenerConfig listenerConfig, OriginalDestinationLookup lookup) throws IOException {
        InetSocketAddress address = listenerConfig.listen();
        boolean ipv6 = address.getAddress() instanceof Inet6Address;
        ServerSocketChannel channel = ServerSocketChannel.open(ipv6 ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET);
        boolean success = false;
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (ipv6 && config.ipv6Only(listenerConfig)) {
                LinuxSockets.get().setIpv6Only(channel, true);
            }
            if (listenerConfig.lookup() == LookupKind.TPROXY) {
                LinuxSockets.get().setTransparent(channel);
            }
            try {
                channel.bind(address, 4096);
            } catch (IOException e) {
                throw new IOException("cannot listen on " + ListenerConfig.format(address) + ": " + e.getMessage()
                        + " (is another process on that port?)", e);
            }
            List<ProxyChain> chains = listenerConfig.chains().stream().map(config::chain).toList();
            ChainSelector selector = ChainSelector.create(listenerConfig.policy(), chains,
                    listenerConfig.failoverBackoff());
            InetSocketAddress bound = (InetSocketAddress) channel.getLocalAddress();
            ListenerRuntime[] runtime = new ListenerRuntime[1];
            Acceptor acceptor = Acceptor.start(group, channel, limit, "listener " + AccessLog.format(bound),
                    (loop, client, from) -> accept(runtime[0], loop, client, from));
            runtime[0] = new ListenerRuntime(listenerConfig, acceptor, lookup, selector);
            listeners.add(runtime[0]);
            success = true;
            Logger.info("listening on {} ({}; {} {})", AccessLog.format(bound), lookup,
                    listenerConfig.policy(), chains);
        } finally {
            if (!success) {
                channel.close();
            }
        }
    }

    private void accept(ListenerRuntime listener, EventLoop loop, SocketChannel client, Acceptor acceptor) {
        counters.countAccepted();
        RedirectSession session = new RedirectSession(this, listener, loop, client, acceptor);
        sessions.put(session.id(), session);
        session.start();
    }

    void sessionEnded(RedirectSession session) {
        sessions.remove(session.id());
    }

    EventLoopGroup group() {
        return group;
    }

    LoopGuard loopGuard() {
        return loopGuard;
    }

    Connector.SocketSetup upstreamSetup() {
        return upstreamSetup;
    }

    Duration idleTimeout() {
        return config.timeouts().idle();
    }

    ChainDialer.Timeouts timeoutsFor(ProxyChain chain) {
        TimeoutsConfig timeouts = config.timeoutsFor(chain.name());
        return new ChainDialer.Timeouts(timeouts.connect(), timeouts.handshake(), timeouts.dial());
    }

    public ChainsocksConfig config() {
        return config;
    }

    public Counters counters() {
        return counters;
    }

    public int activeSessions() {
        return sessions.size();
    }

    public Duration uptime() {
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    /** Bound listener addresses, in config order. */
    public List<InetSocketAddress> boundAddresses() {
        return listeners.stream().map(l -> l.acceptor().localAddress()).toList();
    }

    /** Chain health per listener, for status. */
    public List<ChainSelector> selectors() {
        return listeners.stream().map(ListenerRuntime::selector).toList();
    }

    /** Live sessions, oldest first. */
    public List<SessionInfo> sessions() {
        return sessions.values().stream().map(RedirectSession::info)
                .sorted(Comparator.comparingLong(SessionInfo::id)).toList();
    }

    /** The event loops, for a watchdog that checks they still go round. */
    public List<EventLoop> loops() {
        return group.loops();
    }

    /** Stops accepting; live sessions go on. */
    public void stopAccepting() {
        for (ListenerRuntime listener : listeners) {
            listener.acceptor().close();
        }
    }

    /** Waits up to {@code grace} for live sessions to end by themselves; returns how many were still open. */
    public int drain(Duration grace) throws InterruptedException {
        long deadline = System.nanoTime() + grace.toNanos();
        while (!sessions.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return sessions.size();
    }

    @Override
    public void close() {
        stopAccepting();
        for (RedirectSession session : sessions.values()) {
            session.abort("shutting down");
        }
        try {
            drain(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.close();
    }
}
