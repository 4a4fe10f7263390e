package dev.chainsocks.e2e;

import java.util.List;

/**
 * A small routed network the way chainsocks is deployed as a LAN gateway:
 *
 * <pre>
 *   lan  (client host)            gw  (router, runs chainsocks)            wan  (proxies, target servers)
 *   lan0 198.18.1.2/24  ------  gw-lan 198.18.1.1/24
 *        fd00:1::2/64                  fd00:1::1/64
 *                                 gw-wan 198.19.2.1/24  ------  wan0 198.19.2.2/24
 *                                        fd00:2::1/64                fd00:2::2/64
 * </pre>
 *
 * {@code lan} routes everything (v4 and v6) via {@code gw}; {@code gw} forwards both families; {@code wan} routes back
 * via {@code gw}, so without any NAT a client in {@code lan} reaches servers in {@code wan} directly. A test then puts
 * chainsocks in {@code gw} and sends {@code lan}'s TCP to it with {@link #redirectLanTcp(int)} or with the rules that
 * {@code chainsocks rules} generates, applied through {@code gw().execScript(...)}.
 *
 * <p>All addresses are from the benchmarking range 198.18.0.0/15 and the ULA range fd00::/8; IPv6 addresses are added
 * with {@code nodad} so they are usable immediately. {@link #WAN_HOSTNAME} resolves to {@link #WAN_V4} only inside
 * {@code wan}: a proxy there can resolve it, nobody else can, which proves a name was resolved remotely.
 */
public final class GatewayTopology implements AutoCloseable {

    public static final String LAN_IF = "lan0";
    public static final String GW_LAN_IF = "gw-lan";
    public static final String GW_WAN_IF = "gw-wan";
    public static final String WAN_IF = "wan0";

    public static final String LAN_V4 = "198.18.1.2";
    public static final String GW_LAN_V4 = "198.18.1.1";
    public static final String GW_WAN_V4 = "198.19.2.1";
    public static final String WAN_V4 = "198.19.2.2";

    public static final String LAN_V6 = "fd00:1::2";
    public static final String GW_LAN_V6 = "fd00:1::1";
    public static final String GW_WAN_V6 = "fd00:2::1";
    public static final String WAN_V6 = "fd00:2::2";

    public static final String LAN_SUBNET_V4 = "198.18.1.0/24";
    public static final String WAN_SUBNET_V4 = "198.19.2.0/24";
    public static final String LAN_SUBNET_V6 = "fd00:1::/64";
    public static final String WAN_SUBNET_V6 = "fd00:2::/64";

    /** Resolvable only inside {@code wan} (its own /etc/hosts), to {@link #WAN_V4}. */
    public static final String WAN_HOSTNAME = "web.test";

    private final TestWorkspace workspace;
    private final Netns lan;
    private final Netns gw;
    private final Netns wan;

    private GatewayTopology(TestWorkspace workspace, Netns lan, Netns gw, Netns wan) {
        this.workspace = workspace;
        this.lan = lan;
        this.gw = gw;
        this.wan = wan;
    }

    /** Builds the three namespaces, links, addresses and routes. On any failure, removes what it made. */
    public static GatewayTopology create(TestWorkspace workspace) {
        Netns lan = null;
        Netns gw = null;
        Netns wan = null;
        boolean success = false;
        try {
            lan = Netns.create("lan", workspace);
            gw = Netns.create("gw", workspace);
            wan = Netns.create("wan", workspace);
            GatewayTopology topology = new GatewayTopology(workspace, lan, gw, wan);
            topology.wire();
            success = true;
            return topology;
        } finally {
            if (!success) {
                closeAll(wan, gw, lan);
            }
        }
    }

    private void wire() {
        lan.exec("ip", "link", "add", LAN_IF, "type", "veth", "peer", "name", GW_LAN_IF, "netns", gw.name());
        gw.exec("ip", "link", "add", GW_WAN_IF, "type", "veth", "peer", "name", WAN_IF, "netns", wan.name());

        configure(lan, LAN_IF, LAN_V4 + "/24", LAN_V6 + "/64");
        configure(gw, GW_LAN_IF, GW_LAN_V4 + "/24", GW_LAN_V6 + "/64");
        configure(gw, GW_WAN_IF, GW_WAN_V4 + "/24", GW_WAN_V6 + "/64");
        configure(wan, WAN_IF, WAN_V4 + "/24", WAN_V6 + "/64");

        gw.sysctl("net.ipv4.ip_forward", "1");
        gw.sysctl("net.ipv6.conf.all.forwarding", "1");

        lan.exec("ip", "route", "add", "default", "via", GW_LAN_V4);
        lan.exec("ip", "-6", "route", "add", "default", "via", GW_LAN_V6);
        wan.exec("ip", "route", "add", "default", "via", GW_WAN_V4);
        wan.exec("ip", "-6", "route", "add", "default", "via", GW_WAN_V6);

        wan.addHost(WAN_HOSTNAME, WAN_V4);
    }

    static void configure(Netns netns, String iface, String v4Cidr, String v6Cidr) {
        netns.exec("ip", "addr", "add", v4Cidr, "dev", iface);
        netns.exec("ip", "-6", "addr", "add", v6Cidr, "dev", iface, "nodad");
        netns.exec("ip", "link", "set", iface, "up");
    }

    public Netns lan() {
        return lan;
    }

    public Netns gw() {
        return gw;
    }

    public Netns wan() {
        return wan;
    }

    public TestWorkspace workspace() {
        return workspace;
    }

    /**
     * In {@code gw}: every TCP connection arriving from {@code lan} (both families) goes to local port {@code toPort},
     * where the redirector reads the original destination with SO_ORIGINAL_DST.
     */
    public void redirectLanTcp(int toPort) {
        gw.execScript(String.join("\n",
                "iptables -t nat -A PREROUTING -i " + GW_LAN_IF + " -p tcp -j REDIRECT --to-ports " + toPort,
                "ip6tables -t nat -A PREROUTING -i " + GW_LAN_IF + " -p tcp -j REDIRECT --to-ports " + toPort));
    }

    /** Empties the nat tables in {@code gw}, so {@code lan} reaches {@code wan} directly again. */
    public void clearRedirects() {
        gw.execScript("iptables -t nat -F\niptables -t nat -X\nip6tables -t nat -F\nip6tables -t nat -X");
    }

    /** {@code iptables-save} and {@code ip6tables-save} of {@code gw}, for failure messages. */
    public String gwRules() {
        return gw.execScript("iptables-save; ip6tables-save");
    }

    /**
     * Stops every process in all three namespaces, then deletes them (which removes the veth pairs too) and the
     * workspace's runtime directory.
     */
    @Override
    public void close() {
        try {
            for (Netns netns : List.of(lan, gw, wan)) {
                netns.stopProcesses();
            }
        } finally {
            try {
                closeAll(wan, gw, lan);
            } finally {
                workspace.close();
            }
        }
    }

    private static void closeAll(Netns... namespaces) {
        RuntimeException first = null;
        for (Netns netns : namespaces) {
            if (netns == null) {
                continue;
            }
            try {
                netns.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "gateway topology lan=" + lan.name() + " gw=" + gw.name() + " wan=" + wan.name();
    }
}
