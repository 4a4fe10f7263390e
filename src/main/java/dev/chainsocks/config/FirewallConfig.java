package dev.chainsocks.config;

import dev.chainsocks.syntax.Cidr;
import java.util.List;

/**
 * The {@code [firewall]} table, read by the ruleset generator ({@code chainsocks rules}).
 *
 * @param exempt destinations never redirected; the list replaces the default as a whole
 */
public record FirewallConfig(List<Cidr> exempt) {

    /**
     * Reserved, private, loopback, link-local and multicast networks of both families: {@code 0.0.0.0/8},
     * {@code 10.0.0.0/8}, {@code 127.0.0.0/8}, {@code 169.254.0.0/16}, {@code 172.16.0.0/12}, {@code 192.168.0.0/16},
     * {@code 224.0.0.0/4}, {@code 240.0.0.0/4}, {@code ::1/128}, {@code fc00::/7}, {@code fe80::/10},
     * {@code ff00::/8}.
     */
    public static final List<Cidr> DEFAULT_EXEMPT = List.of("0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8",
            "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::1/128", "fc00::/7",
            "fe80::/10", "ff00::/8").stream().map(Cidr::parse).toList();

    /** Copies the list. */
    public FirewallConfig {
        exempt = List.copyOf(exempt);
    }

    /** The default exemptions. */
    public static FirewallConfig defaults() {
        return new FirewallConfig(DEFAULT_EXEMPT);
    }

    @Override
    public String toString() {
        return "firewall exempt " + exempt;
    }
}
