package dev.chainsocks.redirect;

import dev.chainsocks.chain.ChainSelector;
import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ListenerConfig;
import dev.chainsocks.config.LookupKind;
import dev.chainsocks.config.RelayConfig;
import dev.chainsocks.config.ServiceConfig;
import dev.chainsocks.config.TimeoutsConfig;
import dev.chainsocks.dns.DnsServer;
import dev.chainsocks.dns.FakeIpMap;
import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ConnectionLimit;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.EventLoopGroup;
import dev.chainsocks.engine.RelayMode;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.tinylog.Logger;

/**
 * The transparent redirector ({@code chainsocks run}): listeners that take connections the firewall redirected,
 * each with its lookup and its chain policy, on one shared event-loop group.
 *
 * <p>{@link #reload} swaps in a new configuration: new connections use it, established ones carry on untouched,
 * and a listener whose socket settings did not change keeps its socket (no window where connections are refused).
 */
public final class Redirector implements AutoCloseable {

    /** What a listener applies to each new connection; replaced whole on reload. */
    record ListenerRuntime(ListenerConfig config, OriginalDestinationLookup lookup, ChainSelector selector) {
    }

    /** A listening socket and the runtime its next connection will use. */
    static final class Listener {
        final boolean ipv6Only;
        volatile ListenerRuntime runtime;
        /** Set once, before accepting starts; used to close the socket and to show its address. */
        Acceptor acceptor;

        Listener(boolean ipv6Only, ListenerRuntime runtime) {
            this.ipv6Only = ipv6Only;
            this.runtime = runtime;
        }

        /** Whether a new listener config can keep this socket: same address, lookup and IPv6-only setting. */
        boolean sameSocket(ListenerConfig other, boolean otherIpv6Only) {
            ListenerConfig mine = runtime.config();
            return mine.listen().equals(other.listen()) && mine.lookup() == other.lookup()
                    && ipv6Only == otherIpv6Only;
        }
    }

    /** The parts of a configuration sessions read when they start. Replaced whole on reload. */
    private record Settings(ChainsocksConfig config, Connector.SocketSetup upstreamSetup) {
    }

    private final EventLoopGroup group;
    private final ConnectionLimit limit;
    private final Function<LookupKind, OriginalDestinationLookup> lookups;
    private final LoopGuard loopGuard = new LoopGuard();
    private final Counters counters = new Counters();
    private final Map<Long, RedirectSession> sessions = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final long startedNanos = System.nanoTime();
    private final LongSupplier openFilesLimit;
    private final ChainProbes probes;
    /** One map for the life of the process: a reload reconfigures it, so fake addresses keep their names. */
    private final FakeIpMap fakeIps;
    private volatile Settings settings;

    private Redirector(ChainsocksConfig config, EventLoopGroup group,
            Function<LookupKind, OriginalDestinationLookup> lookups, Connector.SocketSetup upstreamSetup,
            LongSupplier openFilesLimit) {
        this.group = group;
        this.lookups = lookups;
        this.openFilesLimit = openFilesLimit;
        this.limit = new ConnectionLimit(maxConnections(config));
        this.settings = new Settings(config, upstreamSetup);
        this.fakeIps = FakeIpMap.of(config.dns());
        this.probes = new ChainProbes(group.loops().get(0), group.blocking(), loopGuard, this::probeTargets);
    }

    private List<ChainProbes.Target> probeTargets() {
        Settings now = settings;
        return listeners.stream().map(l -> new ChainProbes.Target(l.runtime.selector(), now.config(),
                now.upstreamSetup())).toList();
    }

    /** Starts with the kernel's lookups (SO_ORIGINAL_DST or TPROXY) and SO_MARK when configured. */
    public static Redirector start(ChainsocksConfig config) throws IOException {
        return start(config, kind -> kind == LookupKind.TPROXY
                ? OriginalDestinationLookup.tproxy() : OriginalDestinationLookup.netfilter());
    }

    /** Starts with the given lookups: tests pass a fixed one to run without netfilter. */
    public static Redirector start(ChainsocksConfig config, Function<LookupKind, OriginalDestinationLookup> lookups)
            throws IOException {
        return start(config, lookups, Redirector::processOpenFilesLimit);
    }

    /** As above, with the open files limit the connection limit must fit under (tests give their own). */
    static Redirector start(ChainsocksConfig config, Function<LookupKind, OriginalDestinationLookup> lookups,
            LongSupplier openFilesLimit) throws IOException {
        Connector.SocketSetup upstreamSetup = upstreamSetup(config);
        EventLoopGroup group = new EventLoopGroup("redirect", EventLoopGroup.defaultThreads(),
                relayMode(config.relay()), config.relay().memory());
        Redirector redirector = new Redirector(config, group, lookups, upstreamSetup, openFilesLimit);
        boolean success = false;
        try {
            for (ListenerConfig listener : config.listeners()) {
                redirector.listeners.add(redirector.listen(config, listener));
            }
            redirector.probes.start();
            success = true;
        } finally {
            if (!success) {
                redirector.close();
            }
        }
        return redirector;
    }

    /**
     * SO_MARK for upstream sockets when configured. Tried once on a throwaway socket first, so a missing
     * CAP_NET_ADMIN stops the start (or the reload) with a clear message instead of failing every dial.
     */
    private static Connector.SocketSetup upstreamSetup(ChainsocksConfig config) throws IOException {
        if (config.service().mark().isEmpty()) {
            return Connector.SocketSetup.NONE;
        }
        int mark = (int) config.service().mark().getAsLong();
        LinuxSockets sockets = LinuxSockets.get();
        try (SocketChannel probe = SocketChannel.open()) {
            sockets.setMark(probe, mark);
        } catch (IOException e) {
            throw new IOException("service.mark = " + ServiceConfig.hex(mark) + " cannot be set: " + e.getMessage(), e);
        }
        return channel -> sockets.setMark(channel, mark);
    }

    /** The soft RLIMIT_NOFILE, or unlimited (-1) where it cannot be read. */
    private static long processOpenFilesLimit() {
        if (!LinuxSockets.available()) {
            return -1;
        }
        try {
            return LinuxSockets.get().openFilesLimit();
        } catch (IOException e) {
            Logger.warn("cannot read the open files limit ({}); max-connections is not checked against it",
                    e.getMessage());
            return -1;
        }
    }

    /**
     * {@code service.max-connections}, lowered to what the open files limit can hold (2 descriptors per relayed
     * connection plus the process's own), so that connections beyond it are reset at once instead of failing
     * later for want of a socket, or waiting in the backlog while accept() fails.
     */
    private int maxConnections(ChainsocksConfig config) {
        int configured = config.service().maxConnections();
        long files = openFilesLimit.getAsLong();
        int fitting = ConnectionLimit.fitting(files, 2);
        if (fitting < configured) {
            Logger.info("connection limit {}: max-connections {} needs more file descriptors than the open files"
                    + " limit {} allows (2 per connection, {} for the process itself); raise LimitNOFILE= (systemd)"
                    + " or ulimit -n to allow more", fitting, configured, files, files - 2L * fitting);
            return fitting;
        }
        return configured;
    }

    /** The connection limit in force: max-connections, or less when the open files limit cannot hold that many. */
    public int maxConnections() {
        return limit.max();
    }

    private ListenerRuntime runtimeFor(ChainsocksConfig config, ListenerConfig listenerConfig) {
        List<ProxyChain> chains = config.chainsOf(listenerConfig);
        ChainSelector selector = ChainSelector.create(listenerConfig.policy(), chains,
                listenerConfig.failoverBackoff());
        return new ListenerRuntime(listenerConfig, lookups.apply(listenerConfig.lookup()), selector);
    }

    /**
     * Binds a listener and starts accepting on it. The listener, with the runtime its connections use, is complete
     * before the first accept: a connection already waiting in the backlog is served like any other.
     */
    private Listener listen(ChainsocksConfig config, ListenerConfig listenerConfig) throws IOException {
        InetSocketAddress address = listenerConfig.listen();
        boolean ipv6Only = config.ipv6Only(listenerConfig);
        // The handler reads the listener's runtime, which is set after the bind and before the first accept.
        Listener listener = new Listener(ipv6Only, null);
        Acceptor acceptor;
        try {
            acceptor = Acceptor.listenPerLoop(group, address, 4096, socket -> {
                if (ipv6Only) {
                    LinuxSockets.get().setIpv6Only(socket, true);
                }
                if (listenerConfig.lookup() == LookupKind.TPROXY) {
                    LinuxSockets.get().setTransparent(socket);
                }
            }, limit, "listener", (loop, client, from) -> accept(listener, loop, client, from));
        } catch (IOException e) {
            throw new IOException(e.getMessage() + " (is another process using that port?)", e);
        }
        boolean success = false;
        try {
            ListenerRuntime runtime = runtimeFor(config, listenerConfig);
            listener.runtime = runtime;
            listener.acceptor = acceptor;
            acceptor.start();
            success = true;
            Logger.info("listening on {} ({}; {} {})", AddressSyntax.format(acceptor.localAddress()), runtime.lookup(),
                    listenerConfig.policy(), runtime.selector().chains());
            return listener;
        } finally {
            if (!success) {
                acceptor.close();
            }
        }
    }

    private void accept(Listener listener, EventLoop loop, SocketChannel client, Acceptor acceptor) {
        counters.countAccepted();
        Settings now = settings;
        SessionContext context = new SessionContext(listener.runtime, now.config(), now.upstreamSetup(), loopGuard,
                counters, group.blocking(), sessions, fakeIps);
        new RedirectSession(context, loop, client, acceptor).start();
    }

    /**
     * Applies a new configuration. Listeners are matched by address, lookup and IPv6-only setting: matches keep
     * their socket and get the new chains and policy (their chain health is kept when the chains are the same);
     * new addresses are bound first, and only when all binds succeed are vanished listeners closed. On failure
     * nothing changes and the exception says why.
     */
    public synchronized void reload(ChainsocksConfig config) throws IOException {
        Connector.SocketSetup nextSetup = upstreamSetup(config);
        List<Listener> kept = new ArrayList<>();
        List<Listener> opened = new ArrayList<>();
        List<Runnable> swaps = new ArrayList<>();
        try {
            for (ListenerConfig listenerConfig : config.listeners()) {
                boolean ipv6Only = config.ipv6Only(listenerConfig);
                Listener existing = listeners.stream()
                        .filter(l -> !kept.contains(l) && l.sameSocket(listenerConfig, ipv6Only))
                        .findFirst().orElse(null);
                if (existing != null) {
                    kept.add(existing);
                    ListenerRuntime fresh = sameChains(existing.runtime, config, listenerConfig)
                            ? new ListenerRuntime(listenerConfig, existing.runtime.lookup(), existing.runtime.selector())
                            : runtimeFor(config, listenerConfig);
                    swaps.add(() -> existing.runtime = fresh);
                } else {
                    opened.add(listen(config, listenerConfig));
                }
            }
        } catch (IOException | RuntimeException e) {
            for (Listener listener : opened) {
                listener.acceptor.close();
            }
            throw e;
        }
        Settings next = new Settings(config, nextSetup);
        fakeIps.reconfigure(config.dns());
        swaps.forEach(Runnable::run);
        settings = next;
        limit.setMax(maxConnections(config));
        group.configureRelay(relayMode(config.relay()), config.relay().memory());
        for (Listener listener : listeners) {
            if (!kept.contains(listener)) {
                Logger.info("no longer listening on {} (removed from the configuration)",
                        AddressSyntax.format(listener.acceptor.localAddress()));
                listener.acceptor.close();
            }
        }
        List<Listener> now = new ArrayList<>(kept);
        now.addAll(opened);
        listeners.clear();
        listeners.addAll(now);
        Logger.info("configuration reloaded: {} listener(s) kept, {} opened; {} session(s) carry on",
                kept.size(), opened.size(), sessions.size());
    }

    private static RelayMode relayMode(RelayConfig relay) {
        return switch (relay.mode()) {
            case SPLICE -> RelayMode.SPLICE;
            case COPY -> RelayMode.COPY;
        };
    }

    private static boolean sameChains(ListenerRuntime runtime, ChainsocksConfig config, ListenerConfig next) {
        ListenerConfig previous = runtime.config();
        return previous.policy() == next.policy() && previous.failoverBackoff().equals(next.failoverBackoff())
                && runtime.selector().chains().equals(config.chainsOf(next));
    }

    /** The names fake-IP pool addresses stand for; the DNS server fills it. */
    public FakeIpMap fakeIps() {
        return fakeIps;
    }

    /**
     * How the DNS server reaches its upstream through a chain: dialed like a redirected connection (the chain's
     * timeouts, SO_MARK), the chain looked up by name at each query so a reload takes effect.
     */
    public DnsServer.Tunnel dnsTunnel(String chainName) {
        return (loop, upstream, timeout, opened) -> {
            Settings now = settings;
            ProxyChain chain = now.config().chains().get(chainName);
            if (chain == null) {
                opened.failed("no chain named " + chainName);
                return;
            }
            TimeoutsConfig timeouts = now.config().timeoutsFor(chainName);
            Duration total = timeout.compareTo(timeouts.dial()) < 0 ? timeout : timeouts.dial();
            new ChainDialer(loop, group.blocking(), now.upstreamSetup()).dial(chain,
                    Destination.ip(upstream.getAddress(), upstream.getPort()),
                    new ChainDialer.Timeouts(timeouts.connect(), timeouts.handshake(), total),
                    new ChainDialer.Callback() {
                        @Override
                        public void connected(SocketChannel channel, ByteBuffer earlyData, Duration latency) {
                            byte[] early = new byte[earlyData.remaining()];
                            earlyData.get(early);
                            loop.buffers().release(earlyData);
                            opened.opened(channel, early);
                        }

                        @Override
                        public void failed(DialException failure) {
                            opened.failed(failure.getMessage());
                        }
                    });
        };
    }

    /** The configuration new connections use. */
    public ChainsocksConfig config() {
        return settings.config();
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

    /** Listeners as status shows them: bound address, lookup, policy and chain health. */
    public List<ListenerStatus> listeners() {
        return listeners.stream().map(l -> new ListenerStatus(l.acceptor.localAddress(), l.runtime.config(),
                l.runtime.selector().health())).toList();
    }

    /** Bound listener addresses, in config order. */
    public List<InetSocketAddress> boundAddresses() {
        return listeners.stream().map(l -> l.acceptor.localAddress()).toList();
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
        for (Listener listener : listeners) {
            listener.acceptor.close();
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
        probes.close();
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
