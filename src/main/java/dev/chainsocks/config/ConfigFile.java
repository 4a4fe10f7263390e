package dev.chainsocks.config;

import java.util.List;
import java.util.Map;

/**
 * The TOML file as {@link RecordBinder} binds it, before validation: every key is a record component (kebab-case in
 * the file), so an unknown key fails the binding; a missing key is null and gets its default in
 * {@link ConfigValidator}. Values that need parsing (durations, addresses, URIs, names) stay strings here.
 */
record ConfigFile(Service service, Timeouts timeouts, List<Listener> listener, Map<String, Chain> chain,
                  Metrics metrics, Firewall firewall, Relay relay, Dns dns) {

    /** {@code [service]}. */
    record Service(String logLevel, Long maxConnections, String controlSocket, Long mark, String shutdownGrace) {
    }

    /** {@code [timeouts]}. */
    record Timeouts(String connect, String handshake, String dial, String idle, String keepaliveIdle,
                    String keepaliveInterval, Long keepaliveCount) {
    }

    /** One {@code [[listener]]}. */
    record Listener(String listen, String protocol, String lookup, List<String> chains, String policy,
                    String failoverBackoff, String flowIdleTimeout, Long maxFlows, String recoverName,
                    String onProxyFail, String discloseSrc, String destination) {

        /** A TCP listener, as {@code chainsocks run --listen} makes. */
        Listener(String listen, String lookup, List<String> chains, String policy, String failoverBackoff) {
            this(listen, null, lookup, chains, policy, failoverBackoff, null, null, null, null, null, null);
        }
    }

    /** One {@code [chain.NAME]}. */
    record Chain(List<String> hops, String connectTimeout, String handshakeTimeout) {
    }

    /** {@code [metrics]}. */
    record Metrics(String listen, Boolean allowRemote) {
    }

    /** {@code [firewall]}. */
    record Firewall(List<String> exempt, Long tproxyMark, Long tproxyTable, Boolean redirectDns) {
    }

    /** {@code [dns]}. */
    record Dns(List<String> listen, String fakeIpv4, String fakeIpv6, String ttl, Long maxEntries,
               List<String> proxy, List<String> direct,
               @RecordBinder.Key("default") String fallback, String upstream,
               String upstreamViaChain, String timeout) {
    }

    /** {@code [relay]}. */
    record Relay(String mode, String memory) {
    }
}
