package dev.chainsocks.e2e;

/**
 * chainsocks redirecting a machine's own connections ("local mode"):
 *
 * <pre>
 *   host (programs and chainsocks)          wan (proxies, target servers)
 *   host0 198.19.2.1/24  ---------------  wan0 198.19.2.2/24
 *         fd00:2::1/64                          fd00:2::2/64
 * </pre>
 *
 * Locally generated TCP is redirected in the nat {@code OUTPUT} chain. chainsocks' own upstream connections must be
 * exempted or they would loop back into it: either by the user chainsocks runs as ({@code -m owner --uid-owner}) or by
 * a firewall mark it sets on its sockets ({@code -m mark}). Loopback traffic is never redirected. The {@code wan}
 * addresses are the same as in {@link GatewayTopology}.
 */
public final class LocalTopology implements AutoCloseable {

    public static final String HOST_IF = "host0";
    public static final String WAN_IF = GatewayTopology.WAN_IF;
    public static final String HOST_V4 = GatewayTopology.GW_WAN_V4;
    public static final String HOST_V6 = GatewayTopology.GW_WAN_V6;
    public static final String WAN_V4 = GatewayTopology.WAN_V4;
    public static final String WAN_V6 = GatewayTopology.WAN_V6;
    public static final String WAN_HOSTNAME = GatewayTopology.WAN_HOSTNAME;

    private final TestWorkspace workspace;
    private final Netns host;
    private final Netns wan;

    private LocalTopology(TestWorkspace workspace, Netns host, Netns wan) {
        this.workspace = workspace;
        this.host = host;
        this.wan = wan;
    }

    public static LocalTopology create(TestWorkspace workspace) {
        Netns host = null;
        Netns wan = null;
        boolean success = false;
        try {
            host = Netns.create("host", workspace);
            wan = Netns.create("wan", workspace);
            host.exec("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", WAN_IF, "netns", wan.name());
            GatewayTopology.configure(host, HOST_IF, HOST_V4 + "/24", HOST_V6 + "/64");
            GatewayTopology.configure(wan, WAN_IF, WAN_V4 + "/24", WAN_V6 + "/64");
            wan.addHost(WAN_HOSTNAME, WAN_V4);
            success = true;
            return new LocalTopology(workspace, host, wan);
        } finally {
            if (!success) {
                if (wan != null) {
                    wan.close();
                }
                if (host != null) {
                    host.close();
                }
            }
        }
    }

    public Netns host() {
        return host;
    }

    public Netns wan() {
        return wan;
    }

    public TestWorkspace workspace() {
        return workspace;
    }

    /** Redirects the host's outgoing TCP (both families) to {@code toPort}, except loopback and user {@code uid}. */
    public void redirectOutputTcpExceptUid(int toPort, int uid) {
        host.execScript(outputRules("iptables", toPort, "-m owner --uid-owner " + uid)
                + outputRules("ip6tables", toPort, "-m owner --uid-owner " + uid));
    }

    /** Redirects the host's outgoing TCP (both families) to {@code toPort}, except loopback and sockets with mark. */
    public void redirectOutputTcpExceptMark(int toPort, int mark) {
        host.execScript(outputRules("iptables", toPort, "-m mark --mark " + mark)
                + outputRules("ip6tables", toPort, "-m mark --mark " + mark));
    }

    public void clearRedirects() {
        host.execScript("iptables -t nat -F\niptables -t nat -X\nip6tables -t nat -F\nip6tables -t nat -X");
    }

    private static String outputRules(String tool, int toPort, String exemptMatch) {
        return tool + " -t nat -A OUTPUT -p tcp " + exemptMatch + " -j RETURN\n"
                + tool + " -t nat -A OUTPUT -p tcp -o lo -j RETURN\n"
                + tool + " -t nat -A OUTPUT -p tcp -j REDIRECT --to-ports " + toPort + "\n";
    }

    /** Stops every process, deletes both namespaces and the workspace's runtime directory. */
    @Override
    public void close() {
        try {
            host.stopProcesses();
            wan.stopProcesses();
        } finally {
            try {
                wan.close();
            } finally {
                try {
                    host.close();
                } finally {
                    workspace.close();
                }
            }
        }
    }

    @Override
    public String toString() {
        return "local topology host=" + host.name() + " wan=" + wan.name();
    }
}
