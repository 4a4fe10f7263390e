package dev.chainsocks.config;

import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.Cidr;
import dev.chainsocks.syntax.DurationSyntax;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The optional {@code [dns]} table: chainsocks' own DNS server, which answers names that should be proxied with
 * addresses from a reserved pool (fake IPs) and forwards the others to an upstream resolver.
 *
 * @param listen           where the server listens, UDP and TCP on each address
 * @param fakeIpv4         the IPv4 pool; its network and broadcast addresses are never handed out
 * @param fakeIpv6         the IPv6 pool
 * @param ttl              the TTL of fake answers; a mapping is never reused before this long after its last use
 * @param maxEntries       the most name-address mappings kept; the least recently used expired one goes first
 * @param rules            name suffixes and what to do with them, longest suffix first
 * @param defaultAction    what names no rule matches get
 * @param upstream         the resolver other names are forwarded to; without it they are refused
 * @param upstreamViaChain the chain that carries forwarded queries as DNS over TCP; empty: UDP straight to
 *                         {@code upstream}
 * @param timeout          how long a forwarded query may take
 */
public record DnsConfig(List<InetSocketAddress> listen, Cidr fakeIpv4, Cidr fakeIpv6, Duration ttl, int maxEntries,
                        List<Rule> rules, Action defaultAction, Optional<InetSocketAddress> upstream,
                        Optional<String> upstreamViaChain, Duration timeout) {

    /** The default IPv4 pool; see docs/configuration.md for why this range. */
    public static final Cidr DEFAULT_FAKE_IPV4 = Cidr.parse("100.64.0.0/10");
    /** The default IPv6 pool: RFC 8215's local-use translation prefix. */
    public static final Cidr DEFAULT_FAKE_IPV6 = Cidr.parse("64:ff9b:1::/48");
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_ENTRIES = 65_536;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    /** What a name gets. */
    public enum Action {
        /** A fake address; connections to it are dialed by name through the chain. */
        PROXY,
        /** Forwarded to the upstream resolver; its answer is passed back unchanged. */
        DIRECT;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Optional<Action> fromConfigName(String name) {
            for (Action action : values()) {
                if (action.configName().equals(name)) {
                    return Optional.of(action);
                }
            }
            return Optional.empty();
        }

        @Override
        public String toString() {
            return configName();
        }
    }

    /**
     * One suffix rule.
     *
     * @param suffix a domain in canonical form (lower case, no final dot); it matches itself and its subdomains
     * @param action what matching names get
     */
    public record Rule(String suffix, Action action) {
        public Rule {
            Objects.requireNonNull(suffix, "suffix");
            Objects.requireNonNull(action, "action");
        }

        @Override
        public String toString() {
            return action + " " + suffix;
        }
    }

    public DnsConfig {
        listen = List.copyOf(listen);
        rules = List.copyOf(rules);
        Objects.requireNonNull(fakeIpv4, "fakeIpv4");
        Objects.requireNonNull(fakeIpv6, "fakeIpv6");
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(defaultAction, "defaultAction");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(upstreamViaChain, "upstreamViaChain");
        Objects.requireNonNull(timeout, "timeout");
        if (listen.isEmpty()) {
            throw new IllegalArgumentException("[dns] needs at least one listen address");
        }
        if (fakeIpv4.isIpv6() || !fakeIpv6.isIpv6()) {
            throw new IllegalArgumentException("fake-ipv4 must be IPv4 and fake-ipv6 IPv6");
        }
        if (maxEntries < 1) {
            throw new IllegalArgumentException("max-entries must be positive: " + maxEntries);
        }
        if (upstreamViaChain.isPresent() && upstream.isEmpty()) {
            throw new IllegalArgumentException("upstream-via-chain needs upstream");
        }
    }

    /** What a name gets: the action of the longest matching suffix, else the default. */
    public Action actionFor(String canonicalName) {
        Rule best = null;
        for (Rule rule : rules) {
            boolean matches = rule.suffix().isEmpty() || canonicalName.equals(rule.suffix())
                    || canonicalName.endsWith("." + rule.suffix());
            if (matches && (best == null || rule.suffix().length() > best.suffix().length())) {
                best = rule;
            }
        }
        return best == null ? defaultAction : best.action();
    }

    @Override
    public String toString() {
        return "dns on " + listen.stream().map(AddressSyntax::format).toList() + " pools " + fakeIpv4 + " "
                + fakeIpv6 + " ttl " + DurationSyntax.format(ttl) + " default " + defaultAction
                + upstream.map(u -> " upstream " + AddressSyntax.format(u)).orElse("")
                + upstreamViaChain.map(c -> " via chain " + c).orElse("");
    }
}
