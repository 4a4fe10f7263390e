package dev.chainsocks.config;

import dev.chainsocks.chain.ChainPolicy;
import dev.chainsocks.proto.http.DiscloseSource;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.Cidr;
import dev.chainsocks.syntax.DurationSyntax;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One {@code [[listener]]}: where redirected connections arrive and which chains carry them.
 *
 * @param listen          an IP literal and port; {@code [::]:P} also accepts IPv4 unless an IPv4 listener shares the
 *                        port (see {@link ChainsocksConfig#acceptsIpv4})
 * @param lookup          how the original destination is found
 * @param chains          names of {@code [chain.NAME]} tables, in order, at least one
 * @param policy          how the chains are picked per connection
 * @param failoverBackoff how long a failed chain is tried after the others
 * @param recoverName     whether the destination's name is looked for in the client's first bytes
 * @param onProxyFail     what the client gets when every chain failed
 * @param discloseSource  whether HTTP hops name the client to their proxy
 */
public record ListenerConfig(InetSocketAddress listen, LookupKind lookup, List<String> chains, ChainPolicy policy,
                             Duration failoverBackoff, RecoverName recoverName, OnProxyFail onProxyFail,
                             DiscloseSource discloseSource) {

    /** {@code recover-name}: where a listener looks for the name the client wanted. */
    public enum RecoverName {
        /** Dial the original destination's address. */
        OFF("off"),
        /** Dial the TLS SNI or HTTP/1 Host name found in the client's first bytes, else the address. */
        SNI_HOST("sni-host");

        private final String configName;

        RecoverName(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        public static java.util.Optional<RecoverName> fromConfigName(String name) {
            for (RecoverName value : values()) {
                if (value.configName.equals(name)) {
                    return java.util.Optional.of(value);
                }
            }
            return java.util.Optional.empty();
        }

        @Override
        public String toString() {
            return configName;
        }
    }

    /** How long a listener with {@code recover-name} waits for the client's first bytes before dialing the address. */
    public static final Duration RECOVER_NAME_WAIT = Duration.ofSeconds(1);

    /** A listener without name recovery, resetting clients when the chains fail, disclosing nothing. */
    public ListenerConfig(InetSocketAddress listen, LookupKind lookup, List<String> chains, ChainPolicy policy,
                          Duration failoverBackoff) {
        this(listen, lookup, chains, policy, failoverBackoff, RecoverName.OFF, OnProxyFail.RESET, DiscloseSource.OFF);
    }

    /** Default lookup. */
    public static final LookupKind DEFAULT_LOOKUP = LookupKind.NETFILTER;
    /** Default policy. */
    public static final ChainPolicy DEFAULT_POLICY = ChainPolicy.FAILOVER;
    /** Default failover backoff. */
    public static final Duration DEFAULT_FAILOVER_BACKOFF = Duration.ofSeconds(30);

    /** Default on-proxy-fail. */
    public static final OnProxyFail DEFAULT_ON_PROXY_FAIL = OnProxyFail.RESET;

    /** Copies the chain list and checks it is not empty. */
    public ListenerConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(onProxyFail, "onProxyFail");
        Objects.requireNonNull(discloseSource, "discloseSource");
        Objects.requireNonNull(lookup, "lookup");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(failoverBackoff, "failoverBackoff");
        Objects.requireNonNull(recoverName, "recoverName");
        chains = List.copyOf(chains);
        if (listen.isUnresolved()) {
            throw new IllegalArgumentException("listen address must be an IP address: " + listen);
        }
        if (chains.isEmpty()) {
            throw new IllegalArgumentException("a listener needs at least one chain");
        }
        if (failoverBackoff.isNegative()) {
            throw new IllegalArgumentException("failoverBackoff must not be negative: " + failoverBackoff);
        }
    }

    /** A listener with the default lookup, policy and backoff. */
    public static ListenerConfig of(InetSocketAddress listen, List<String> chains) {
        return new ListenerConfig(listen, DEFAULT_LOOKUP, chains, DEFAULT_POLICY, DEFAULT_FAILOVER_BACKOFF);
    }

    /** Whether the listen address is IPv6 (including {@code [::]}). */
    public boolean isIpv6() {
        return listen.getAddress() instanceof Inet6Address;
    }

    /** Whether the listen address is a wildcard, {@code 0.0.0.0} or {@code [::]}. */
    public boolean isWildcard() {
        return listen.getAddress().isAnyLocalAddress();
    }

    /**
     * Reads {@code 0.0.0.0:12345}, {@code 127.0.0.1:9151} or {@code [::]:12345}; host names are not accepted.
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static InetSocketAddress parseAddress(String text) {
        String hint = " (write an IP address and port: \"0.0.0.0:12345\", \"127.0.0.1:12345\" or \"[::]:12345\")";
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("invalid address \"" + text + "\"" + hint);
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("missing port in \"" + text + "\"" + hint);
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (host.contains(":")) {
                throw new IllegalArgumentException("IPv6 address without brackets in \"" + text + "\"" + hint);
            }
        }
        InetAddress address = Cidr.parseLiteral(host);
        if (address == null) {
            throw new IllegalArgumentException("\"" + host + "\" is not an IP address in \"" + text + "\"" + hint);
        }
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)
                || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw new IllegalArgumentException("invalid port \"" + port + "\" in \"" + text + "\" (use 1..65535)");
        }
        return new InetSocketAddress(address, Integer.parseInt(port));
    }


    /** {@code 0.0.0.0:12345 netfilter failover [main, backup] backoff 30s}. */
    @Override
    public String toString() {
        return AddressSyntax.format(listen) + " " + lookup + " " + policy + " " + chains
                + (chains.size() > 1 ? " backoff " + DurationSyntax.format(failoverBackoff) : "")
                + (recoverName == RecoverName.OFF ? "" : " recover-name " + recoverName)
                + (onProxyFail == DEFAULT_ON_PROXY_FAIL ? "" : " on-proxy-fail " + onProxyFail)
                + (discloseSource == DiscloseSource.OFF ? "" : " disclose-src " + discloseSource);
    }
}
