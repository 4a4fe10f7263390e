package dev.chainsocks.config;

import dev.chainsocks.chain.ProxyChain;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole validated configuration: what {@link ConfigLoader} reads from a TOML file and
 * {@link #fromFlags(List, List)} builds from {@code chainsocks run --listen ... --via ...}.
 *
 * @param service       the {@code [service]} table
 * @param timeouts      the {@code [timeouts]} table
 * @param listeners     every {@code [[listener]]}, in file order, at least one
 * @param chains        every {@code [chain.NAME]}, by name, in file order
 * @param chainTimeouts each chain's effective timeouts: {@link #timeouts} with its {@code connect-timeout} and
 *                      {@code handshake-timeout} applied
 * @param metrics       the {@code [metrics]} table, when present
 * @param firewall      the {@code [firewall]} table
 * @param source        the file it was read from; empty when built from command-line flags
 * @param relay         the {@code [relay]} table
 * @param udpListeners  every {@code [[listener]]} with {@code protocol = "udp"}, in file order; {@link #listeners}
 *                      holds the TCP ones
 * @param dns           the {@code [dns]} table, when present
 */
public record ChainsocksConfig(ServiceConfig service, TimeoutsConfig timeouts, List<ListenerConfig> listeners,
                               Map<String, ProxyChain> chains, Map<String, TimeoutsConfig> chainTimeouts,
                               Optional<MetricsConfig> metrics, FirewallConfig firewall, Optional<Path> source,
                               RelayConfig relay, List<UdpListenerConfig> udpListeners,
                               Optional<DnsConfig> dns) {

    /** The chain name used by {@link #fromFlags}. */
    public static final String CLI_CHAIN = "cli";

    /** Copies the collections (keeping order) and checks that every listener's chains exist. */
    public ChainsocksConfig {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(firewall, "firewall");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(relay, "relay");
        Objects.requireNonNull(dns, "dns");
        listeners = List.copyOf(listeners);
        udpListeners = List.copyOf(udpListeners);
        chains = Collections.unmodifiableMap(new LinkedHashMap<>(chains));
        chainTimeouts = Collections.unmodifiableMap(new LinkedHashMap<>(chainTimeouts));
        if (listeners.isEmpty() && udpListeners.isEmpty()) {
            throw new IllegalArgumentException("at least one listener is needed");
        }
        for (ListenerConfig listener : listeners) {
            for (String name : listener.chains()) {
                if (!chains.containsKey(name)) {
                    throw new IllegalArgumentException("listener " + listener + " uses unknown chain " + name);
                }
            }
        }
        for (UdpListenerConfig listener : udpListeners) {
            for (String name : listener.chains()) {
                if (!chains.containsKey(name)) {
                    throw new IllegalArgumentException("listener " + listener + " uses unknown chain " + name);
                }
            }
        }
        Optional<String> dnsChain = dns.flatMap(DnsConfig::upstreamViaChain);
        if (dnsChain.isPresent() && !chains.containsKey(dnsChain.get())) {
            throw new IllegalArgumentException("[dns] upstream-via-chain names unknown chain " + dnsChain.get());
        }
        for (Map.Entry<String, ProxyChain> e : chains.entrySet()) {
            if (!e.getKey().equals(e.getValue().name())) {
                throw new IllegalArgumentException("chain " + e.getValue() + " filed under the name " + e.getKey());
            }
        }
    }

    /** A configuration without UDP listeners. */
    public ChainsocksConfig(ServiceConfig service, TimeoutsConfig timeouts, List<ListenerConfig> listeners,
                            Map<String, ProxyChain> chains, Map<String, TimeoutsConfig> chainTimeouts,
                            Optional<MetricsConfig> metrics, FirewallConfig firewall, Optional<Path> source,
                            RelayConfig relay, Optional<DnsConfig> dns) {
        this(service, timeouts, listeners, chains, chainTimeouts, metrics, firewall, source, relay, List.of(), dns);
    }

    /** A configuration without {@code [dns]}. */
    public ChainsocksConfig(ServiceConfig service, TimeoutsConfig timeouts, List<ListenerConfig> listeners,
                            Map<String, ProxyChain> chains, Map<String, TimeoutsConfig> chainTimeouts,
                            Optional<MetricsConfig> metrics, FirewallConfig firewall, Optional<Path> source,
                            RelayConfig relay, List<UdpListenerConfig> udpListeners) {
        this(service, timeouts, listeners, chains, chainTimeouts, metrics, firewall, source, relay, udpListeners,
                Optional.empty());
    }

    /** A configuration with the default {@code [relay]} table, no UDP listeners and no {@code [dns]}. */
    public ChainsocksConfig(ServiceConfig service, TimeoutsConfig timeouts, List<ListenerConfig> listeners,
                            Map<String, ProxyChain> chains, Map<String, TimeoutsConfig> chainTimeouts,
                            Optional<MetricsConfig> metrics, FirewallConfig firewall, Optional<Path> source) {
        this(service, timeouts, listeners, chains, chainTimeouts, metrics, firewall, source, RelayConfig.DEFAULTS);
    }

    /** A configuration without UDP listeners and without {@code [dns]}. */
    public ChainsocksConfig(ServiceConfig service, TimeoutsConfig timeouts, List<ListenerConfig> listeners,
                            Map<String, ProxyChain> chains, Map<String, TimeoutsConfig> chainTimeouts,
                            Optional<MetricsConfig> metrics, FirewallConfig firewall, Optional<Path> source,
                            RelayConfig relay) {
        this(service, timeouts, listeners, chains, chainTimeouts, metrics, firewall, source, relay, List.of(),
                Optional.empty());
    }

    /** A UDP listener's chains, in its order. */
    public List<ProxyChain> chainsOf(UdpListenerConfig listener) {
        return listener.chains().stream().map(this::chain).toList();
    }

    /**
     * The configuration for the quick start {@code chainsocks run --listen 0.0.0.0:12345 --via socks5://...}: one
     * listener per {@code --listen}, all using one chain named {@value #CLI_CHAIN} made of the {@code --via} hops in
     * order, policy strict, every other setting at its default. Checked exactly like a file.
     *
     * @param listen listen addresses such as {@code 0.0.0.0:12345} or {@code [::]:12345}, at least one
     * @param via    hop URIs, first hop first; none means a direct chain
     * @throws ConfigException naming the flag and what is wrong
     */
    public static ChainsocksConfig fromFlags(List<String> listen, List<String> via) throws ConfigException {
        return ConfigValidator.fromFlags(listen, via);
    }

    /** The chain with this name. */
    public ProxyChain chain(String name) {
        ProxyChain chain = chains.get(name);
        if (chain == null) {
            throw new IllegalArgumentException("no chain named " + name + "; chains are " + chains.keySet());
        }
        return chain;
    }

    /** A listener's chains, in its order. */
    public List<ProxyChain> chainsOf(ListenerConfig listener) {
        return listener.chains().stream().map(this::chain).toList();
    }

    /** The effective timeouts of a chain. */
    public TimeoutsConfig timeoutsFor(String chainName) {
        return chainTimeouts.getOrDefault(chainName, timeouts);
    }

    /**
     * Whether an IPv6 listener must set {@code IPV6_V6ONLY}: a specific IPv6 address, or {@code [::]:P} when an
     * IPv4 listener also uses port P. Always false for IPv4 listeners.
     */
    public boolean ipv6Only(ListenerConfig listener) {
        if (!listener.isIpv6()) {
            return false;
        }
        if (!listener.isWildcard()) {
            return true;
        }
        return listeners.stream().anyMatch(other -> !other.isIpv6()
                && other.listen().getPort() == listener.listen().getPort());
    }

    /** Whether a listener receives IPv4 connections: an IPv4 address, or a dual-stack {@code [::]}. */
    public boolean acceptsIpv4(ListenerConfig listener) {
        return !listener.isIpv6() || !ipv6Only(listener);
    }

    /** Whether a listener receives IPv6 connections. */
    public boolean acceptsIpv6(ListenerConfig listener) {
        return listener.isIpv6();
    }

    /**
     * Things that work but are probably not meant, one sentence each: chains that no listener uses. The
     * {@code check} command prints them; loading does not fail on them.
     */
    public List<String> warnings() {
        List<String> warnings = new ArrayList<>();
        for (String name : chains.keySet()) {
            boolean usedByDns = dns.flatMap(DnsConfig::upstreamViaChain).filter(name::equals).isPresent();
            if (!usedByDns && listeners.stream().noneMatch(l -> l.chains().contains(name))
                    && udpListeners.stream().noneMatch(l -> l.chains().contains(name))) {
                warnings.add(where() + "[chain." + name + "] is not used by any listener");
            }
        }
        return warnings;
    }

    private String where() {
        return source.map(p -> p + ": ").orElse("");
    }

    /** A one-line summary: where from, listeners and chains (passwords hidden). */
    @Override
    public String toString() {
        return "config " + source.map(Path::toString).orElse("from flags") + ": listeners " + listeners
                + (udpListeners.isEmpty() ? "" : ", udp listeners " + udpListeners) + ", chains " + chains.values();
    }
}
