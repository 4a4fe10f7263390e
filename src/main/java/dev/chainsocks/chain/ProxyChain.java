package dev.chainsocks.chain;

import dev.chainsocks.proto.Destination;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A named, ordered list of proxies, one inside the next: chainsocks connects to the first hop, asks it for the
 * second, asks the second for the third, and the last for the original destination.
 *
 * <p>An empty hop list means "direct": the destination is dialled without any proxy, which is useful for
 * exemptions. {@link #toString()} reads {@code main[socks5://a:1080 -> http://b:3128]} or {@code lan[direct]},
 * with passwords hidden; it is built once, since every connection's log lines show it.
 *
 * <p>A value: equal when name and hops are.
 */
public final class ProxyChain {

    private final String name;
    private final List<ProxyHop> hops;
    private final String label;

    /**
     * Copies the hop list and checks the name is not blank.
     *
     * @param name the chain's name in the configuration ({@code [chain.NAME]})
     * @param hops the proxies in dialling order; empty for a direct connection
     */
    public ProxyChain(String name, List<ProxyHop> hops) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("chain name must not be blank");
        }
        this.name = name;
        this.hops = List.copyOf(hops);
        this.label = this.hops.isEmpty() ? name + "[direct]"
                : this.hops.stream().map(ProxyHop::toString).collect(Collectors.joining(" -> ", name + "[", "]"));
    }

    /** The chain's name in the configuration ({@code [chain.NAME]}). */
    public String name() {
        return name;
    }

    /** The proxies in dialling order; empty for a direct connection. */
    public List<ProxyHop> hops() {
        return hops;
    }

    /** Whether this chain connects straight to the destination, through no proxy. */
    public boolean isDirect() {
        return hops.isEmpty();
    }

    /**
     * Finds hops that cannot ask for their next target: a hop that cannot carry a host name followed by a hop given
     * by name, a hop that cannot carry IPv6 followed by a hop given as an IPv6 literal, and a last hop that cannot
     * carry IPv6 when the original destination may be IPv6. The original destination is always an IP address.
     *
     * @param destinationMayBeIpv6 whether the chain serves a listener that accepts IPv6 connections
     * @return one readable sentence per problem, each with a fix; empty when the chain is sound
     */
    public List<String> problems(boolean destinationMayBeIpv6) {
        List<String> problems = new ArrayList<>();
        List<Integer> protecting = new ArrayList<>();
        for (int i = 0; i < hops.size(); i++) {
            if (hops.get(i).gssapi().map(GssapiHopOptions::protects).orElse(false)) {
                protecting.add(i + 1);
            }
        }
        if (protecting.size() > 1) {
            problems.add("hops " + protecting.stream().map(String::valueOf).collect(Collectors.joining(" and "))
                    + " both ask for GSS-API per-message protection; chainsocks protects the stream for one hop"
                    + " per chain: keep protection= on one of them");
        }
        for (int i = 0; i < hops.size(); i++) {
            ProxyHop hop = hops.get(i);
            HopProtocol protocol = hop.protocol();
            String label = "hop " + (i + 1) + " " + hop;
            if (protocol.relaysRequests() && i + 1 < hops.size()) {
                problems.add(label + " relays plain HTTP requests and can only be the last hop; nothing can be"
                        + " tunnelled through it (use http:// for a CONNECT hop)");
                continue;
            }
            if (i + 1 < hops.size()) {
                Destination next = hops.get(i + 1).address();
                String to = " to hop " + (i + 2);
                if (next instanceof Destination.Name && !protocol.canCarryNames()) {
                    problems.add(label + " cannot carry the name " + next + to + "; use socks4a:// or socks5://");
                } else if (next instanceof Destination.Ip ip && ip.isIpv6() && !protocol.canCarryIpv6()) {
                    problems.add(label + " cannot carry the IPv6 address " + next + to + "; use socks5:// or http://");
                }
            } else if (destinationMayBeIpv6 && !protocol.canCarryIpv6()) {
                problems.add(label + " is the last hop and cannot carry IPv6 destinations, which an IPv6 listener"
                        + " receives; use socks5:// or http://, or use this chain on IPv4 listeners only");
            }
        }
        return problems;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ProxyChain chain && name.equals(chain.name) && hops.equals(chain.hops);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + hops.hashCode();
    }

    @Override
    public String toString() {
        return label;
    }
}
