package dev.chainsocks.config;

import dev.chainsocks.syntax.Cidr;
import java.util.List;

/**
 * The {@code [firewall]} table, read by the ruleset generator ({@code chainsocks rules}).
 *
 * @param exempt      destinations never redirected; the list replaces the default as a whole
 * @param tproxyMark  the packet mark bits the TPROXY rules set on diverted packets, and the policy routing rule
 *                    ({@code ip rule add fwmark MARK/MARK}) matches; must share no bit with {@code service.mark}
 * @param tproxyTable the routing table that delivers marked packets locally ({@code local default dev lo})
 * @param redirectDns with {@code [dns]}: whether the rules also send clients' DNS (UDP and TCP port 53, whatever
 *                    server they ask) to chainsocks' DNS server
 */
public record FirewallConfig(List<Cidr> exempt, long tproxyMark, long tproxyTable, boolean redirectDns) {

    /**
     * Reserved, private, loopback, link-local and multicast networks of both families: {@code 0.0.0.0/8},
     * {@code 10.0.0.0/8}, {@code 127.0.0.0/8}, {@code 169.254.0.0/16}, {@code 172.16.0.0/12}, {@code 192.168.0.0/16},
     * {@code 224.0.0.0/4}, {@code 240.0.0.0/4}, {@code ::1/128}, {@code fc00::/7}, {@code fe80::/10},
     * {@code ff00::/8}.
     */
    public static final List<Cidr> DEFAULT_EXEMPT = List.of("0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8",
            "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::1/128", "fc00::/7",
            "fe80::/10", "ff00::/8").stream().map(Cidr::parse).toList();

    /** Default TPROXY mark: bit 0, as in the kernel's TPROXY documentation. */
    public static final long DEFAULT_TPROXY_MARK = 0x1;
    /** Default TPROXY routing table. */
    public static final long DEFAULT_TPROXY_TABLE = 100;

    /** Copies the list and checks the mark and table. */
    public FirewallConfig {
        exempt = List.copyOf(exempt);
        if (tproxyMark < 1 || tproxyMark > 0xffff_ffffL) {
            throw new IllegalArgumentException("tproxy-mark must be 0x1..0xffffffff: " + tproxyMark);
        }
        if (!validTable(tproxyTable)) {
            throw new IllegalArgumentException("tproxy-table must be 1..4294967295 and not 253, 254 or 255: "
                    + tproxyTable);
        }
    }

    /** With DNS redirected when {@code [dns]} is configured. */
    public FirewallConfig(List<Cidr> exempt, long tproxyMark, long tproxyTable) {
        this(exempt, tproxyMark, tproxyTable, true);
    }

    /** With the default TPROXY mark and table. */
    public FirewallConfig(List<Cidr> exempt) {
        this(exempt, DEFAULT_TPROXY_MARK, DEFAULT_TPROXY_TABLE);
    }

    /** The default exemptions, TPROXY mark and table. */
    public static FirewallConfig defaults() {
        return new FirewallConfig(DEFAULT_EXEMPT);
    }

    /** Whether a routing table id can be ours: not 0 (unspec) and not default, main or local (253..255). */
    public static boolean validTable(long table) {
        return table >= 1 && table <= 0xffff_ffffL && (table < 253 || table > 255);
    }

    @Override
    public String toString() {
        return "firewall exempt " + exempt + ", tproxy mark " + ServiceConfig.hex(tproxyMark) + " table "
                + tproxyTable + (redirectDns ? "" : ", dns not redirected");
    }
}
