package dev.chainsocks.config;

import dev.chainsocks.chain.ChainPolicy;
import dev.chainsocks.chain.HopProtocol;
import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.proto.http.DiscloseSource;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.Cidr;
import dev.chainsocks.syntax.DurationSyntax;
import dev.chainsocks.syntax.SizeSyntax;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import org.tinylog.Level;

/**
 * Turns the mapped file ({@link ConfigFile}) into the typed {@link ChainsocksConfig}: parses every value, fills in
 * defaults and checks everything that involves more than one key. All problems are collected, each placed by a
 * {@link Locator}, and reported together, in file order.
 */
final class ConfigValidator {

    private static final Pattern CHAIN_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace");
    private static final int MAX_CONNECTIONS_LIMIT = 1_000_000;
    private static final int MAX_DNS_ENTRIES = 4_000_000;
    private static final Pattern DNS_SUFFIX = Pattern.compile(
            "([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*");

    /** One problem and the line it sorts by (0 when it has none). */
    record Problem(int line, String text) {
    }

    /** Says where a problem is: a file line and table/key, or a command-line flag. */
    interface Locator {

        /**
         * @param linePath    the path whose line is reported
         * @param contextPath the table or key named in the message, usually the same path
         * @param message     what is wrong and what to do
         */
        Problem at(List<String> linePath, List<String> contextPath, String message);

        default Problem at(List<String> path, String message) {
            return at(path, path, message);
        }
    }

    private final Locator locator;
    private final List<Problem> problems = new ArrayList<>();

    private ConfigValidator(Locator locator) {
        this.locator = locator;
    }

    /** Validates a mapped file; problems are placed by {@code locator}. */
    static ChainsocksConfig validate(ConfigFile file, Locator locator, Optional<Path> source) throws ConfigException {
        return new ConfigValidator(locator).build(file, source);
    }

    /** The configuration of {@code chainsocks run --listen ... --via ...}; see {@link ChainsocksConfig#fromFlags}. */
    static ChainsocksConfig fromFlags(List<String> listen, List<String> via) throws ConfigException {
        if (listen.isEmpty()) {
            throw new ConfigException(List.of("command line: no --listen; give at least one, such as"
                    + " --listen 0.0.0.0:12345"));
        }
        List<ConfigFile.Listener> listeners = listen.stream().map(l -> new ConfigFile.Listener(l, null,
                List.of(ChainsocksConfig.CLI_CHAIN), ChainPolicy.STRICT.configName(), null)).toList();
        ConfigFile file = new ConfigFile(null, null, listeners,
                Map.of(ChainsocksConfig.CLI_CHAIN, new ConfigFile.Chain(List.copyOf(via), null, null)), null, null,
                null, null);
        Locator flags = (linePath, contextPath, message) -> new Problem(0, "command line: " + flag(linePath) + message);
        return validate(file, flags, Optional.empty());
    }

    private static String flag(List<String> path) {
        if (path.size() >= 4 && path.get(0).equals("chain") && path.get(2).equals("hops")) {
            return "--via #" + (Integer.parseInt(path.get(3)) + 1) + ": ";
        }
        if (path.size() >= 1 && path.get(0).equals("chain")) {
            return "--via: ";
        }
        if (path.size() >= 2 && path.get(0).equals("listener")) {
            return "--listen #" + (Integer.parseInt(path.get(1)) + 1) + ": ";
        }
        if (path.size() == 1 && path.get(0).equals("listener")) {
            return "--listen: ";
        }
        return "";
    }

    /**
     * How a path reads in a message: {@code [chain.main] hops[1]}, {@code [[listener]] #2 chains[0]},
     * {@code [service] mark}; empty for the top level.
     */
    static String describe(List<String> path) {
        if (path.isEmpty()) {
            return "";
        }
        String head = path.get(0);
        StringBuilder out = new StringBuilder();
        int rest;
        if (head.equals("listener") && path.size() >= 2 && isIndex(path.get(1))) {
            out.append("[[listener]] #").append(Integer.parseInt(path.get(1)) + 1);
            rest = 2;
        } else if (head.equals("chain") && path.size() >= 2) {
            out.append("[chain.").append(CHAIN_NAME.matcher(path.get(1)).matches()
                    ? path.get(1) : "\"" + path.get(1) + "\"").append(']');
            rest = 2;
        } else if (head.equals("listener")) {
            out.append("[[listener]]");
            rest = 1;
        } else if (List.of("service", "timeouts", "metrics", "firewall", "chain", "relay", "dns").contains(head)) {
            out.append('[').append(head).append(']');
            rest = 1;
        } else {
            rest = 0;
        }
        StringBuilder key = new StringBuilder();
        for (int i = rest; i < path.size(); i++) {
            String segment = path.get(i);
            if (i > rest && isIndex(segment)) {
                key.append('[').append(segment).append(']');
            } else {
                key.append(key.length() > 0 ? "." : "").append(segment);
            }
        }
        if (out.length() > 0 && key.length() > 0) {
            out.append(' ');
        }
        return out.append(key).toString();
    }

    private static boolean isIndex(String segment) {
        return !segment.isEmpty() && segment.chars().allMatch(Character::isDigit);
    }

    private ChainsocksConfig build(ConfigFile file, Optional<Path> source) throws ConfigException {
        ServiceConfig service = service(file.service());
        TimeoutsConfig timeouts = timeouts(file.timeouts());

        Map<String, ProxyChain> chains = new LinkedHashMap<>();
        Map<String, TimeoutsConfig> chainTimeouts = new LinkedHashMap<>();
        Set<String> definedChains = file.chain() == null ? Set.of() : new LinkedHashSet<>(file.chain().keySet());
        if (file.chain() != null) {
            file.chain().forEach((name, raw) -> chain(name, raw, timeouts, chains, chainTimeouts));
        }

        List<ListenerConfig> listeners = new ArrayList<>();
        List<UdpListenerConfig> udpListeners = new ArrayList<>();
        List<Integer> udpIndexes = new ArrayList<>();
        List<Integer> tcpIndexes = new ArrayList<>();
        if (file.listener() == null || file.listener().isEmpty()) {
            problems.add(locator.at(List.of("listener"), List.of(), "no [[listener]]; add one such as"
                    + " [[listener]] listen = \"0.0.0.0:12345\" chains = [\"main\"]"));
        } else {
            for (int i = 0; i < file.listener().size(); i++) {
                ConfigFile.Listener raw = file.listener().get(i);
                if (protocol(i, raw) == ListenerProtocol.UDP) {
                    UdpListenerConfig listener = udpListener(i, raw, definedChains);
                    if (listener != null) {
                        checkUdpOverlap(listener, i, udpListeners, udpIndexes);
                        udpListeners.add(listener);
                        udpIndexes.add(i);
                    }
                    continue;
                }
                tcpOnlyKeys(i, raw);
                ListenerConfig listener = listener(i, raw, definedChains);
                if (listener != null) {
                    checkOverlap(listener, i, listeners, tcpIndexes);
                    listeners.add(listener);
                    tcpIndexes.add(i);
                }
            }
        }
        for (int k = 0; k < udpListeners.size(); k++) {
            checkUdpChains(udpIndexes.get(k), udpListeners.get(k), chains);
        }

        for (ProxyChain chain : chains.values()) {
            boolean mayBeIpv6 = listeners.stream().anyMatch(l -> l.isIpv6() && l.chains().contains(chain.name()))
                    || udpListeners.stream().anyMatch(l -> l.isIpv6() && l.chains().contains(chain.name()));
            for (String problem : chain.problems(mayBeIpv6)) {
                problems.add(locator.at(List.of("chain", chain.name(), "hops"), problem));
            }
        }

        Optional<MetricsConfig> metrics = metrics(file.metrics(), listeners);
        FirewallConfig firewall = firewall(file.firewall(), service);
        RelayConfig relay = relay(file.relay());
        Optional<DnsConfig> dns = dns(file.dns(), definedChains, listeners, firewall);

        if (problems.isEmpty()) {
            try {
                return new ChainsocksConfig(service, timeouts, listeners, chains, chainTimeouts, metrics, firewall,
                        source, relay, udpListeners, dns);
            } catch (IllegalArgumentException e) {
                problems.add(locator.at(List.of(), e.getMessage()));
            }
        }
        problems.sort(Comparator.comparingInt(p -> p.line() == 0 ? Integer.MAX_VALUE : p.line()));
        throw new ConfigException(problems.stream().map(Problem::text).toList());
    }

    private ServiceConfig service(ConfigFile.Service raw) {
        if (raw == null) {
            return ServiceConfig.defaults();
        }
        Level level = ServiceConfig.DEFAULT_LOG_LEVEL;
        if (raw.logLevel() != null) {
            String name = raw.logLevel().toLowerCase(Locale.ROOT);
            if (LOG_LEVELS.contains(name)) {
                level = Level.valueOf(name.toUpperCase(Locale.ROOT));
            } else {
                problem(List.of("service", "log-level"), "unknown log level \"" + raw.logLevel()
                        + "\" (use error, warn, info, debug or trace)");
            }
        }
        int maxConnections = ServiceConfig.DEFAULT_MAX_CONNECTIONS;
        if (raw.maxConnections() != null) {
            if (raw.maxConnections() < 1 || raw.maxConnections() > MAX_CONNECTIONS_LIMIT) {
                problem(List.of("service", "max-connections"), "must be 1.." + MAX_CONNECTIONS_LIMIT + ", got "
                        + raw.maxConnections());
            } else {
                maxConnections = raw.maxConnections().intValue();
            }
        }
        Optional<Path> controlSocket = Optional.empty();
        if (raw.controlSocket() != null) {
            try {
                Path path = Path.of(raw.controlSocket());
                if (path.isAbsolute()) {
                    controlSocket = Optional.of(path);
                } else {
                    problem(List.of("service", "control-socket"), "must be an absolute path, got \""
                            + raw.controlSocket() + "\"");
                }
            } catch (InvalidPathException e) {
                problem(List.of("service", "control-socket"), "invalid path: " + e.getMessage());
            }
        }
        OptionalLong mark = OptionalLong.empty();
        if (raw.mark() != null) {
            if (raw.mark() < 1 || raw.mark() > 0xffff_ffffL) {
                problem(List.of("service", "mark"), "must be 1..4294967295 (0x1..0xffffffff), got " + raw.mark());
            } else {
                mark = OptionalLong.of(raw.mark());
            }
        }
        Duration grace = duration(raw.shutdownGrace(), ServiceConfig.DEFAULT_SHUTDOWN_GRACE, true,
                List.of("service", "shutdown-grace"));
        return new ServiceConfig(level, maxConnections, controlSocket, mark, grace);
    }

    private RelayConfig relay(ConfigFile.Relay raw) {
        RelayConfig d = RelayConfig.DEFAULTS;
        if (raw == null) {
            return d;
        }
        RelayConfig.Mode mode = d.mode();
        if (raw.mode() != null) {
            Optional<RelayConfig.Mode> named = RelayConfig.Mode.fromConfigName(raw.mode());
            if (named.isPresent()) {
                mode = named.get();
            } else {
                problem(List.of("relay", "mode"), "unknown relay mode \"" + raw.mode() + "\" (use splice or copy)");
            }
        }
        long memory = d.memory();
        if (raw.memory() != null) {
            try {
                long parsed = SizeSyntax.parse(raw.memory());
                if (parsed < RelayConfig.MIN_MEMORY || parsed > RelayConfig.MAX_MEMORY) {
                    problem(List.of("relay", "memory"), "must be 1MiB..64GiB, got \"" + raw.memory() + "\"");
                } else {
                    memory = parsed;
                }
            } catch (IllegalArgumentException e) {
                problem(List.of("relay", "memory"), e.getMessage());
            }
        }
        return new RelayConfig(mode, memory);
    }

    /**
     * Whether a DNS server on this address is reachable only from this host or its own networks: loopback, private
     * (RFC 1918, IPv6 ULA), link-local, shared (100.64.0.0/10) or benchmarking (198.18.0.0/15) addresses. Not the
     * wildcard, which includes every public address the machine has.
     */
    static boolean servesOnlyNearbyClients(InetAddress address) {
        if (address.isLoopbackAddress() || address.isLinkLocalAddress() || address.isSiteLocalAddress()) {
            return true;
        }
        byte[] b = address.getAddress();
        if (b.length == 4) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            return (first == 100 && (second & 0xc0) == 64) || (first == 198 && (second & 0xfe) == 18);
        }
        return (b[0] & 0xfe) == 0xfc;
    }

    private Optional<DnsConfig> dns(ConfigFile.Dns raw, Set<String> definedChains, List<ListenerConfig> listeners,
                                    FirewallConfig firewall) {
        if (raw == null) {
            return Optional.empty();
        }
        int before = problems.size();
        List<InetSocketAddress> listen = new ArrayList<>();
        if (raw.listen() == null || raw.listen().isEmpty()) {
            problem(List.of("dns"), "missing key listen (such as listen = [\"127.0.0.53:53\"]; UDP and TCP are"
                    + " served on each address)");
        } else {
            for (int i = 0; i < raw.listen().size(); i++) {
                List<String> at = List.of("dns", "listen", String.valueOf(i));
                try {
                    InetSocketAddress address = ListenerConfig.parseAddress(raw.listen().get(i));
                    if (listen.contains(address)) {
                        problem(at, AddressSyntax.format(address) + " is listed twice");
                    }
                    if (!servesOnlyNearbyClients(address.getAddress())) {
                        problem(at, AddressSyntax.format(address) + " would answer anyone who can reach it: an open"
                                + " resolver, which others use for amplification attacks; listen on a loopback or LAN"
                                + " address (such as \"127.0.0.53:53\" or \"192.168.1.1:53\")");
                    }
                    for (int j = 0; j < listeners.size(); j++) {
                        String conflict = overlap(address, listeners.get(j).listen());
                        if (conflict != null) {
                            problem(at, conflict + " [[listener]] #" + (j + 1) + " (TCP cannot share it)");
                        }
                    }
                    listen.add(address);
                } catch (IllegalArgumentException e) {
                    problem(at, e.getMessage());
                }
            }
        }
        Cidr v4 = pool(raw.fakeIpv4(), DnsConfig.DEFAULT_FAKE_IPV4, false, "fake-ipv4", firewall);
        Cidr v6 = pool(raw.fakeIpv6(), DnsConfig.DEFAULT_FAKE_IPV6, true, "fake-ipv6", firewall);
        Duration ttl = duration(raw.ttl(), DnsConfig.DEFAULT_TTL, false, List.of("dns", "ttl"));
        Duration timeout = duration(raw.timeout(), DnsConfig.DEFAULT_TIMEOUT, false, List.of("dns", "timeout"));
        int maxEntries = DnsConfig.DEFAULT_MAX_ENTRIES;
        if (raw.maxEntries() != null) {
            if (raw.maxEntries() < 1 || raw.maxEntries() > MAX_DNS_ENTRIES) {
                problem(List.of("dns", "max-entries"), "must be 1.." + MAX_DNS_ENTRIES + ", got " + raw.maxEntries());
            } else {
                maxEntries = raw.maxEntries().intValue();
            }
        }
        List<DnsConfig.Rule> rules = new ArrayList<>();
        Map<String, String> seenSuffixes = new LinkedHashMap<>();
        for (DnsConfig.Action action : DnsConfig.Action.values()) {
            List<String> suffixes = action == DnsConfig.Action.PROXY ? raw.proxy() : raw.direct();
            for (int i = 0; suffixes != null && i < suffixes.size(); i++) {
                List<String> at = List.of("dns", action.configName(), String.valueOf(i));
                String suffix = suffixes.get(i).toLowerCase(Locale.ROOT);
                suffix = suffix.startsWith(".") ? suffix.substring(1) : suffix;
                suffix = suffix.endsWith(".") ? suffix.substring(0, suffix.length() - 1) : suffix;
                if (!DNS_SUFFIX.matcher(suffix).matches()) {
                    problem(at, "\"" + suffixes.get(i) + "\" is not a domain name (write a name such as"
                            + " \"example.com\"; it matches itself and every name under it)");
                } else if (seenSuffixes.containsKey(suffix)) {
                    problem(at, "\"" + suffix + "\" is already listed in " + seenSuffixes.get(suffix));
                } else {
                    seenSuffixes.put(suffix, action.configName());
                    rules.add(new DnsConfig.Rule(suffix, action));
                }
            }
        }
        DnsConfig.Action fallback = DnsConfig.Action.PROXY;
        if (raw.fallback() != null) {
            Optional<DnsConfig.Action> named = DnsConfig.Action.fromConfigName(raw.fallback());
            if (named.isPresent()) {
                fallback = named.get();
            } else {
                problem(List.of("dns", "default"), "unknown action \"" + raw.fallback() + "\" (use proxy or direct)");
            }
        }
        Optional<InetSocketAddress> upstream = Optional.empty();
        if (raw.upstream() != null) {
            try {
                upstream = Optional.of(ListenerConfig.parseAddress(raw.upstream()));
            } catch (IllegalArgumentException e) {
                problem(List.of("dns", "upstream"), e.getMessage());
            }
        }
        Optional<String> via = Optional.ofNullable(raw.upstreamViaChain());
        if (via.isPresent()) {
            if (!definedChains.contains(via.get())) {
                problem(List.of("dns", "upstream-via-chain"), "no chain named \"" + via.get() + "\" ("
                        + (definedChains.isEmpty() ? "no [chain.NAME] tables are defined"
                        : "defined: " + String.join(", ", definedChains)) + ")");
            }
            if (raw.upstream() == null) {
                problem(List.of("dns", "upstream-via-chain"), "needs upstream, the resolver to reach through the"
                        + " chain (such as upstream = \"9.9.9.9:53\")");
            }
        }
        if (problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new DnsConfig(listen, v4, v6, ttl, maxEntries, rules, fallback, upstream, via, timeout));
    }

    private Cidr pool(String text, Cidr fallback, boolean ipv6, String key, FirewallConfig firewall) {
        Cidr pool = fallback;
        List<String> at = List.of("dns", key);
        if (text != null) {
            try {
                pool = Cidr.parse(text);
            } catch (IllegalArgumentException e) {
                problem(at, e.getMessage());
                return fallback;
            }
            if (pool.isIpv6() != ipv6) {
                problem(at, "\"" + text + "\" is not an " + (ipv6 ? "IPv6" : "IPv4") + " network");
                return fallback;
            }
            int hostBits = (ipv6 ? 128 : 32) - pool.prefixLength();
            if (hostBits < 2) {
                problem(at, "\"" + text + "\" is too small for a pool (use a prefix of at most /"
                        + (ipv6 ? 126 : 30) + ")");
                return fallback;
            }
        }
        for (Cidr exempt : firewall.exempt()) {
            if (exempt.isIpv6() == ipv6 && (exempt.contains(pool.network()) || pool.contains(exempt.network()))) {
                problem(at, pool + " overlaps the [firewall] exempt network " + exempt + ", so connections to its"
                        + " addresses would not be redirected (choose another pool or change exempt)");
                break;
            }
        }
        return pool;
    }

    private TimeoutsConfig timeouts(ConfigFile.Timeouts raw) {
        TimeoutsConfig d = TimeoutsConfig.DEFAULTS;
        if (raw == null) {
            return d;
        }
        return new TimeoutsConfig(
                duration(raw.connect(), d.connect(), false, List.of("timeouts", "connect")),
                duration(raw.handshake(), d.handshake(), false, List.of("timeouts", "handshake")),
                duration(raw.dial(), d.dial(), false, List.of("timeouts", "dial")),
                duration(raw.idle(), d.idle(), false, List.of("timeouts", "idle")),
                keepalive(raw));
    }

    private Optional<KeepaliveConfig> keepalive(ConfigFile.Timeouts raw) {
        if (raw.keepaliveIdle() == null) {
            if (raw.keepaliveInterval() != null || raw.keepaliveCount() != null) {
                problem(List.of("timeouts", raw.keepaliveInterval() != null ? "keepalive-interval"
                        : "keepalive-count"), "keepalive is off without keepalive-idle; set keepalive-idle (such as"
                        + " \"60s\") to turn it on");
            }
            return Optional.empty();
        }
        Duration idle = keepaliveSeconds(raw.keepaliveIdle(), Duration.ofSeconds(60), "keepalive-idle");
        Duration interval = keepaliveSeconds(raw.keepaliveInterval(), KeepaliveConfig.DEFAULT_INTERVAL,
                "keepalive-interval");
        int count = KeepaliveConfig.DEFAULT_COUNT;
        if (raw.keepaliveCount() != null) {
            if (raw.keepaliveCount() < 1 || raw.keepaliveCount() > KeepaliveConfig.MAX_COUNT) {
                problem(List.of("timeouts", "keepalive-count"), "must be 1.." + KeepaliveConfig.MAX_COUNT + ", got "
                        + raw.keepaliveCount());
            } else {
                count = raw.keepaliveCount().intValue();
            }
        }
        return Optional.of(new KeepaliveConfig(idle, interval, count));
    }

    private Duration keepaliveSeconds(String text, Duration fallback, String key) {
        Duration d = duration(text, fallback, false, List.of("timeouts", key));
        if (!KeepaliveConfig.validSeconds(d)) {
            problem(List.of("timeouts", key), "must be whole seconds, 1s.." + KeepaliveConfig.MAX_SECONDS
                    + "s, got \"" + text + "\"");
            return fallback;
        }
        return d;
    }

    private void chain(String name, ConfigFile.Chain raw, TimeoutsConfig timeouts, Map<String, ProxyChain> chains,
                       Map<String, TimeoutsConfig> chainTimeouts) {
        List<String> at = List.of("chain", name);
        boolean ok = true;
        if (!CHAIN_NAME.matcher(name).matches()) {
            problem(at, "invalid chain name (use 1..64 letters, digits, '-' or '_')");
            ok = false;
        }
        if (raw == null || raw.hops() == null) {
            problem(at, "missing key hops (list the proxy URIs, first hop first, or write hops = [] for direct"
                    + " connections)");
            return;
        }
        List<ProxyHop> hops = new ArrayList<>();
        for (int i = 0; i < raw.hops().size(); i++) {
            try {
                hops.add(ProxyHop.parse(raw.hops().get(i)));
            } catch (IllegalArgumentException e) {
                problem(List.of("chain", name, "hops", String.valueOf(i)), e.getMessage());
                ok = false;
            }
        }
        Duration connect = duration(raw.connectTimeout(), timeouts.connect(), false,
                List.of("chain", name, "connect-timeout"));
        Duration handshake = duration(raw.handshakeTimeout(), timeouts.handshake(), false,
                List.of("chain", name, "handshake-timeout"));
        if (ok) {
            chains.put(name, new ProxyChain(name, hops));
            chainTimeouts.put(name, timeouts.withConnectAndHandshake(connect, handshake));
        }
    }

    private ListenerConfig listener(int index, ConfigFile.Listener raw, Set<String> definedChains) {
        String i = String.valueOf(index);
        boolean ok = true;
        InetSocketAddress listen = listenAddress(i, raw);
        ok &= listen != null;
        LookupKind lookup = ListenerConfig.DEFAULT_LOOKUP;
        if (raw.lookup() != null) {
            Optional<LookupKind> kind = LookupKind.fromConfigName(raw.lookup());
            if (kind.isPresent() && kind.get() == LookupKind.FIXED) {
                problem(List.of("listener", i, "lookup"), "lookup = \"fixed\" is for UDP listeners (add protocol ="
                        + " \"udp\"); a TCP listener uses netfilter or tproxy");
                ok = false;
            } else if (kind.isPresent()) {
                lookup = kind.get();
            } else {
                problem(List.of("listener", i, "lookup"), "unknown lookup \"" + raw.lookup()
                        + "\" (use netfilter or tproxy)");
            }
        }
        List<String> chains = raw.chains() == null ? List.of() : raw.chains();
        ok &= chainsAreKnown(i, raw, definedChains);
        ChainPolicy policy = ListenerConfig.DEFAULT_POLICY;
        if (raw.policy() != null) {
            Optional<ChainPolicy> named = ChainPolicy.fromConfigName(raw.policy());
            if (named.isPresent()) {
                policy = named.get();
            } else {
                problem(List.of("listener", i, "policy"), "unknown policy \"" + raw.policy() + "\" (use "
                        + ChainPolicy.validNames() + ")");
            }
        }
        if (policy == ChainPolicy.STRICT && chains.size() > 1) {
            problem(List.of("listener", i, "policy"), "policy strict takes exactly one chain but chains lists "
                    + chains.size() + " (use failover, round-robin or random to list several)");
            ok = false;
        }
        Duration backoff = duration(raw.failoverBackoff(), ListenerConfig.DEFAULT_FAILOVER_BACKOFF, true,
                List.of("listener", i, "failover-backoff"));
        ListenerConfig.RecoverName recover = ListenerConfig.RecoverName.OFF;
        if (raw.recoverName() != null) {
            Optional<ListenerConfig.RecoverName> named = ListenerConfig.RecoverName.fromConfigName(raw.recoverName());
            if (named.isPresent()) {
                recover = named.get();
            } else {
                problem(List.of("listener", i, "recover-name"), "unknown value \"" + raw.recoverName()
                        + "\" (use off or sni-host)");
            }
        }
        OnProxyFail onProxyFail = ListenerConfig.DEFAULT_ON_PROXY_FAIL;
        if (raw.onProxyFail() != null) {
            Optional<OnProxyFail> named = OnProxyFail.fromConfigName(raw.onProxyFail());
            if (named.isPresent()) {
                onProxyFail = named.get();
            } else {
                problem(List.of("listener", i, "on-proxy-fail"), "unknown value \"" + raw.onProxyFail()
                        + "\" (use reset or http-error)");
            }
        }
        DiscloseSource disclose = DiscloseSource.OFF;
        if (raw.discloseSrc() != null) {
            Optional<DiscloseSource> named = DiscloseSource.fromConfigName(raw.discloseSrc());
            if (named.isPresent()) {
                disclose = named.get();
            } else {
                problem(List.of("listener", i, "disclose-src"), "unknown value \"" + raw.discloseSrc()
                        + "\" (use off, x-forwarded-for or forwarded)");
            }
        }
        return ok ? new ListenerConfig(listen, lookup, chains, policy, backoff, recover, onProxyFail,
                disclose) : null;
    }

    /** A listener's {@code listen} address, or null after reporting why there is none. */
    private InetSocketAddress listenAddress(String i, ConfigFile.Listener raw) {
        if (raw.listen() == null) {
            problem(List.of("listener", i), "missing key listen (such as listen = \"0.0.0.0:12345\")");
            return null;
        }
        try {
            return ListenerConfig.parseAddress(raw.listen());
        } catch (IllegalArgumentException e) {
            problem(List.of("listener", i, "listen"), e.getMessage());
            return null;
        }
    }

    /** Whether a listener's {@code chains} list is present, not empty, and names defined chains once each. */
    private boolean chainsAreKnown(String i, ConfigFile.Listener raw, Set<String> definedChains) {
        List<String> chains = raw.chains() == null ? List.of() : raw.chains();
        boolean ok = true;
        if (raw.chains() == null) {
            problem(List.of("listener", i), "missing key chains (such as chains = [\"main\"])");
            ok = false;
        } else if (chains.isEmpty()) {
            problem(List.of("listener", i, "chains"), "empty; list at least one [chain.NAME]");
            ok = false;
        }
        Set<String> seen = new HashSet<>();
        for (int j = 0; j < chains.size(); j++) {
            String name = chains.get(j);
            List<String> at = List.of("listener", i, "chains", String.valueOf(j));
            if (!definedChains.contains(name)) {
                problem(at, "no chain named \"" + name + "\" ("
                        + (definedChains.isEmpty() ? "no [chain.NAME] tables are defined"
                        : "defined: " + String.join(", ", definedChains)) + ")");
                ok = false;
            } else if (!seen.add(name)) {
                problem(at, "chain \"" + name + "\" is listed twice");
                ok = false;
            }
        }
        return ok;
    }

    private ListenerProtocol protocol(int index, ConfigFile.Listener raw) {
        if (raw.protocol() == null) {
            return ListenerProtocol.TCP;
        }
        Optional<ListenerProtocol> named = ListenerProtocol.fromConfigName(raw.protocol());
        if (named.isEmpty()) {
            problem(List.of("listener", String.valueOf(index), "protocol"), "unknown protocol \"" + raw.protocol()
                    + "\" (use tcp or udp)");
            return ListenerProtocol.TCP;
        }
        return named.get();
    }

    /** The UDP keys on a TCP listener are mistakes, not silently ignored settings. */
    private void tcpOnlyKeys(int index, ConfigFile.Listener raw) {
        String i = String.valueOf(index);
        if (raw.flowIdleTimeout() != null) {
            problem(List.of("listener", i, "flow-idle-timeout"), "applies to UDP listeners only (add protocol ="
                    + " \"udp\", or use [timeouts] idle for TCP)");
        }
        if (raw.maxFlows() != null) {
            problem(List.of("listener", i, "max-flows"), "applies to UDP listeners only (add protocol = \"udp\","
                    + " or use [service] max-connections for TCP)");
        }
        if (raw.destination() != null) {
            problem(List.of("listener", i, "destination"), "applies to UDP listeners with lookup = \"fixed\" only"
                    + " (a TCP listener finds each connection's destination with netfilter or tproxy)");
        }
    }

    private UdpListenerConfig udpListener(int index, ConfigFile.Listener raw, Set<String> definedChains) {
        String i = String.valueOf(index);
        boolean ok = true;
        InetSocketAddress listen = listenAddress(i, raw);
        ok &= listen != null;
        LookupKind lookup = raw.lookup() == null ? LookupKind.TPROXY
                : LookupKind.fromConfigName(raw.lookup()).orElse(null);
        if (lookup == null || lookup == LookupKind.NETFILTER) {
            problem(List.of("listener", i, "lookup"), (lookup == null ? "unknown lookup \"" + raw.lookup() + "\""
                    : "netfilter REDIRECT keeps no original destination for UDP") + "; a UDP listener uses tproxy"
                    + " (the default) or fixed (with destination = \"IP:PORT\")");
        }
        Optional<InetSocketAddress> destination = Optional.empty();
        if (lookup == LookupKind.FIXED && raw.destination() == null) {
            problem(List.of("listener", i, "lookup"), "lookup = \"fixed\" needs destination = \"IP:PORT\", where"
                    + " every datagram goes (such as destination = \"192.0.2.53:53\")");
        } else if (lookup == LookupKind.TPROXY && raw.destination() != null) {
            problem(List.of("listener", i, "destination"), "applies to lookup = \"fixed\" only; add lookup ="
                    + " \"fixed\" to send every datagram there, or remove destination to take each datagram's own"
                    + " destination from TPROXY");
        } else if (lookup == LookupKind.FIXED) {
            destination = fixedDestination(i, raw.destination(), listen);
        }
        if (raw.policy() != null && ChainPolicy.fromConfigName(raw.policy()).filter(p -> p == ChainPolicy.FAILOVER
                || p == ChainPolicy.STRICT).isEmpty()) {
            problem(List.of("listener", i, "policy"), "a UDP listener tries its chains in order for each new flow;"
                    + " use failover or strict, or remove policy");
        }
        if (raw.failoverBackoff() != null) {
            problem(List.of("listener", i, "failover-backoff"), "does not apply to UDP listeners (each new flow"
                    + " tries the chains in order)");
        }
        if (raw.recoverName() != null) {
            problem(List.of("listener", i, "recover-name"), "applies to TCP listeners only (a datagram names no"
                    + " host); remove it from this UDP listener");
        }
        List<String> chains = raw.chains() == null ? List.of() : raw.chains();
        ok &= chainsAreKnown(i, raw, definedChains);
        if (raw.policy() != null && ChainPolicy.fromConfigName(raw.policy()).orElse(null) == ChainPolicy.STRICT
                && chains.size() > 1) {
            problem(List.of("listener", i, "policy"), "policy strict takes exactly one chain but chains lists "
                    + chains.size() + " (use failover to list several)");
            ok = false;
        }
        Duration idle = duration(raw.flowIdleTimeout(), UdpListenerConfig.DEFAULT_FLOW_IDLE, false,
                List.of("listener", i, "flow-idle-timeout"));
        int maxFlows = UdpListenerConfig.DEFAULT_MAX_FLOWS;
        if (raw.maxFlows() != null) {
            if (raw.maxFlows() < 1 || raw.maxFlows() > UdpListenerConfig.MAX_FLOWS_LIMIT) {
                problem(List.of("listener", i, "max-flows"), "must be 1.." + UdpListenerConfig.MAX_FLOWS_LIMIT
                        + ", got " + raw.maxFlows());
            } else {
                maxFlows = raw.maxFlows().intValue();
            }
        }
        return ok ? new UdpListenerConfig(listen, chains, idle, maxFlows, destination) : null;
    }

    /** A fixed destination: an IP literal (not a wildcard) and port, other than the listener's own address. */
    private Optional<InetSocketAddress> fixedDestination(String i, String text, InetSocketAddress listen) {
        List<String> at = List.of("listener", i, "destination");
        InetSocketAddress to;
        try {
            to = ListenerConfig.parseAddress(text);
        } catch (IllegalArgumentException e) {
            problem(at, e.getMessage().replace("\"0.0.0.0:12345\", \"127.0.0.1:12345\" or \"[::]:12345\"",
                    "\"192.0.2.53:53\" or \"[2001:db8::53]:53\""));
            return Optional.empty();
        }
        if (to.getAddress().isAnyLocalAddress()) {
            problem(at, "\"" + text + "\" is a wildcard address; name the one server every datagram goes to");
            return Optional.empty();
        }
        if (to.equals(listen)) {
            problem(at, "\"" + text + "\" is the listener's own address; datagrams would come back to it");
            return Optional.empty();
        }
        return Optional.of(to);
    }

    /**
     * A SOCKS5 UDP relay is reached by the datagrams themselves, not through a tunnel: only a chain of SOCKS5 hops
     * can carry UDP, each hop's relay passing the datagrams on to the next one's (hop 1's association is direct,
     * each later hop's is asked for through a CONNECT tunnel over the hops before it). Each problem is placed at the
     * offending hop (or the chain) and names the UDP listener that needs it.
     */
    private void checkUdpChains(int index, UdpListenerConfig listener, Map<String, ProxyChain> chains) {
        String user = "needed by UDP [[listener]] #" + (index + 1) + " (" + AddressSyntax.format(listener.listen())
                + ")";
        for (String name : listener.chains()) {
            ProxyChain chain = chains.get(name);
            if (chain == null) {
                continue;
            }
            if (chain.isDirect()) {
                problem(List.of("chain", name, "hops"), "a direct chain (hops = []) cannot carry UDP, " + user
                        + "; UDP goes through a SOCKS5 UDP ASSOCIATE, so give the chain one socks5 hop");
                continue;
            }
            for (int h = 0; h < chain.hops().size(); h++) {
                ProxyHop hop = chain.hops().get(h);
                if (hop.protocol() != HopProtocol.SOCKS5 && hop.protocol() != HopProtocol.SOCKS5H) {
                    problem(List.of("chain", name, "hops", String.valueOf(h)), "hop " + (h + 1) + " " + hop
                            + " speaks " + hop.protocol() + ", which cannot carry UDP, " + user + "; UDP needs"
                            + (chain.hops().size() == 1 ? " a socks5 hop" : " socks5 hops (each relays the datagrams"
                            + " of the next)") + " whose server supports UDP ASSOCIATE");
                }
            }
        }
    }

    private void checkUdpOverlap(UdpListenerConfig listener, int index, List<UdpListenerConfig> earlier,
                                 List<Integer> earlierIndexes) {
        for (int j = 0; j < earlier.size(); j++) {
            String conflict = overlap(listener.listen(), earlier.get(j).listen());
            if (conflict != null) {
                problem(List.of("listener", String.valueOf(index), "listen"), conflict + " UDP [[listener]] #"
                        + (earlierIndexes.get(j) + 1));
                return;
            }
        }
    }

    private void checkOverlap(ListenerConfig listener, int index, List<ListenerConfig> earlier,
                              List<Integer> earlierIndexes) {
        for (int j = 0; j < earlier.size(); j++) {
            ListenerConfig other = earlier.get(j);
            String conflict = overlap(listener.listen(), other.listen());
            if (conflict != null) {
                problem(List.of("listener", String.valueOf(index), "listen"), conflict + " [[listener]] #"
                        + (earlierIndexes.get(j) + 1));
                return;
            }
        }
    }

    /** Why two addresses cannot both be bound, or null: same address, or same family and port with a wildcard. */
    private static String overlap(InetSocketAddress a, InetSocketAddress b) {
        if (a.getPort() != b.getPort()) {
            return null;
        }
        if (a.getAddress().equals(b.getAddress())) {
            return AddressSyntax.format(a) + " is already the address of";
        }
        boolean sameFamily = a.getAddress().getClass() == b.getAddress().getClass();
        if (sameFamily && (a.getAddress().isAnyLocalAddress() || b.getAddress().isAnyLocalAddress())) {
            return AddressSyntax.format(a) + " overlaps the wildcard address " + AddressSyntax.format(b) + " of";
        }
        return null;
    }

    private Optional<MetricsConfig> metrics(ConfigFile.Metrics raw, List<ListenerConfig> listeners) {
        if (raw == null) {
            return Optional.empty();
        }
        InetSocketAddress listen = MetricsConfig.DEFAULT_LISTEN;
        if (raw.listen() != null) {
            try {
                listen = ListenerConfig.parseAddress(raw.listen());
            } catch (IllegalArgumentException e) {
                problem(List.of("metrics", "listen"), e.getMessage());
                return Optional.empty();
            }
        }
        boolean allowRemote = raw.allowRemote() != null && raw.allowRemote();
        if (!allowRemote && !listen.getAddress().isLoopbackAddress()) {
            problem(List.of("metrics", "listen"), AddressSyntax.format(listen) + " is not a loopback address; set"
                    + " allow-remote = true to serve metrics beyond this host");
            return Optional.empty();
        }
        for (int j = 0; j < listeners.size(); j++) {
            String conflict = overlap(listen, listeners.get(j).listen());
            if (conflict != null) {
                problem(List.of("metrics", "listen"), conflict + " [[listener]] #" + (j + 1));
                return Optional.empty();
            }
        }
        return Optional.of(new MetricsConfig(listen, allowRemote));
    }

    private FirewallConfig firewall(ConfigFile.Firewall raw, ServiceConfig service) {
        if (raw == null) {
            return FirewallConfig.defaults();
        }
        List<Cidr> exempt = new ArrayList<>();
        if (raw.exempt() == null) {
            exempt.addAll(FirewallConfig.DEFAULT_EXEMPT);
        } else {
            for (int i = 0; i < raw.exempt().size(); i++) {
                try {
                    exempt.add(Cidr.parse(raw.exempt().get(i)));
                } catch (IllegalArgumentException e) {
                    problem(List.of("firewall", "exempt", String.valueOf(i)), e.getMessage());
                }
            }
        }
        long mark = FirewallConfig.DEFAULT_TPROXY_MARK;
        if (raw.tproxyMark() != null) {
            if (raw.tproxyMark() < 1 || raw.tproxyMark() > 0xffff_ffffL) {
                problem(List.of("firewall", "tproxy-mark"), "must be 1..4294967295 (0x1..0xffffffff), got "
                        + raw.tproxyMark());
            } else {
                mark = raw.tproxyMark();
            }
        }
        long bits = mark;
        service.mark().ifPresent(own -> {
            if ((own & bits) != 0) {
                problem(List.of("firewall", "tproxy-mark"), ServiceConfig.hex(bits) + " shares bits with [service]"
                        + " mark " + ServiceConfig.hex(own) + ": chainsocks' own upstream packets would be routed"
                        + " back to this host; choose a tproxy-mark with no bit of service.mark");
            }
        });
        long table = FirewallConfig.DEFAULT_TPROXY_TABLE;
        if (raw.tproxyTable() != null) {
            if (!FirewallConfig.validTable(raw.tproxyTable())) {
                problem(List.of("firewall", "tproxy-table"), "must be 1..4294967295 and not 253, 254 or 255 (the"
                        + " default, main and local tables), got " + raw.tproxyTable());
            } else {
                table = raw.tproxyTable();
            }
        }
        return new FirewallConfig(exempt, mark, table, raw.redirectDns() == null || raw.redirectDns());
    }

    private Duration duration(String text, Duration fallback, boolean zeroAllowed, List<String> path) {
        if (text == null) {
            return fallback;
        }
        try {
            Duration d = DurationSyntax.parse(text);
            if (d.isZero() && !zeroAllowed) {
                problem(path, "must be more than zero, got \"" + text + "\"");
                return fallback;
            }
            return d;
        } catch (IllegalArgumentException e) {
            problem(path, e.getMessage());
            return fallback;
        }
    }

    private void problem(List<String> path, String message) {
        problems.add(locator.at(path, message));
    }
}
