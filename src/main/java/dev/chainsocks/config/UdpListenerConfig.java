package dev.chainsocks.config;

import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.DurationSyntax;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One {@code [[listener]]} with {@code protocol = "udp"}: a UDP socket whose datagrams are carried, one flow per
 * client address and destination, through a SOCKS5 UDP ASSOCIATE on each (SOCKS5) hop of one of its chains. The
 * destination is each datagram's original one, when the socket is transparent and TPROXY hands it datagrams
 * ({@code lookup = "tproxy"}), or one fixed {@code destination} for every datagram ({@code lookup = "fixed"}, as
 * redsocks' redudp with {@code dest_ip}/{@code dest_port}), answered from the listener's own address.
 *
 * @param listen      an IP literal and port; {@code [::]:P} also receives IPv4
 * @param chains      names of {@code [chain.NAME]} tables, each of SOCKS5 hops only; tried in order for a new flow
 * @param flowIdle    how long a flow lives without a datagram either way
 * @param maxFlows    how many flows may be open at once; a datagram that would start one more is dropped
 * @param destination lookup fixed: where every datagram goes; empty for tproxy
 */
public record UdpListenerConfig(InetSocketAddress listen, List<String> chains, Duration flowIdle, int maxFlows,
                                Optional<InetSocketAddress> destination) {

    /** Default {@code flow-idle-timeout}: long enough for a DNS retry, short enough not to hoard associations. */
    public static final Duration DEFAULT_FLOW_IDLE = Duration.ofSeconds(60);
    /** Default {@code max-flows}. */
    public static final int DEFAULT_MAX_FLOWS = 1024;
    /** Largest {@code max-flows}: each flow holds a TCP connection and two UDP sockets. */
    public static final int MAX_FLOWS_LIMIT = 100_000;

    public UdpListenerConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(flowIdle, "flowIdle");
        Objects.requireNonNull(destination, "destination");
        chains = List.copyOf(chains);
        if (listen.isUnresolved()) {
            throw new IllegalArgumentException("listen address must be an IP address: " + listen);
        }
        if (chains.isEmpty()) {
            throw new IllegalArgumentException("a listener needs at least one chain");
        }
        if (flowIdle.isNegative() || flowIdle.isZero()) {
            throw new IllegalArgumentException("flowIdle must be positive: " + flowIdle);
        }
        if (maxFlows < 1 || maxFlows > MAX_FLOWS_LIMIT) {
            throw new IllegalArgumentException("maxFlows must be 1.." + MAX_FLOWS_LIMIT + ": " + maxFlows);
        }
        destination.ifPresent(to -> {
            if (to.isUnresolved() || to.getAddress().isAnyLocalAddress() || to.getPort() == 0) {
                throw new IllegalArgumentException("destination must be an IP address (not a wildcard) and a port: "
                        + to);
            }
            if (to.equals(listen)) {
                throw new IllegalArgumentException("destination is the listener's own address: " + to);
            }
        });
    }

    /** A TPROXY listener: each datagram's original destination. */
    public UdpListenerConfig(InetSocketAddress listen, List<String> chains, Duration flowIdle, int maxFlows) {
        this(listen, chains, flowIdle, maxFlows, Optional.empty());
    }

    /** {@code tproxy}, or {@code fixed} with a destination. */
    public LookupKind lookup() {
        return destination.isPresent() ? LookupKind.FIXED : LookupKind.TPROXY;
    }

    /** Whether the listen address is IPv6 (including {@code [::]}). */
    public boolean isIpv6() {
        return listen.getAddress() instanceof Inet6Address;
    }

    /** {@code udp [::]:12345 [dns] flow-idle 60s max-flows 1024}, and {@code to 192.0.2.53:53} when fixed. */
    @Override
    public String toString() {
        return "udp " + AddressSyntax.format(listen) + destination.map(to -> " to " + AddressSyntax.format(to))
                .orElse("") + " " + chains + " flow-idle " + DurationSyntax.format(flowIdle) + " max-flows "
                + maxFlows;
    }
}
