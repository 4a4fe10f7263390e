package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V6;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TPROXY lookup, with no NAT at all and no hand-written rule: gw applies exactly the script
 * {@code chainsocks rules --mode gateway --lan-iface gw-lan} prints (mangle rules that hand lan's TCP to a
 * transparent socket and mark it, a policy routing rule and a local route for the mark), for IPv4 and IPv6.
 * chainsocks reads the original destination with getsockname and dials it through a hop. Applying the script twice
 * leaves one copy; {@code --down} removes every trace, after which lan reaches wan directly.
 */
@Tag("e2e")
class TproxyE2E {

    private static final int PORT = 12400;
    private static final int HTTP_PORT = 8080;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"iptables", "nft"})
    void lanReachesWanThroughTheRulesChainsocksPrints(String backend) throws Exception {
        Prerequisites.require("iptables", "ip6tables", "nft", "ip", "ss", "curl", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("TproxyE2E-" + backend);
        try (GatewayTopology topology = GatewayTopology.create(workspace);
                HttpFileServer web = HttpFileServer.start(topology.wan(), HTTP_PORT, 1 << 16);
                BundledHop hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), null,
                        "--allow-from", "198.18.0.0/15")) {
            Path config = workspace.work().resolve("tproxy.toml");
            // The default exemptions would cover the fd00::/8 test networks; exempt something else.
            Files.writeString(config, """
                    [[listener]]
                    listen = "0.0.0.0:%d"
                    lookup = "tproxy"
                    chains = ["main"]

                    [[listener]]
                    listen = "[::]:%d"
                    lookup = "tproxy"
                    chains = ["main"]

                    [chain.main]
                    hops = ["%s"]

                    [firewall]
                    exempt = ["10.0.0.0/8"]
                    tproxy-mark = 0x10
                    tproxy-table = 123
                    """.formatted(PORT, PORT, hop.uri("socks5")));
            String up = rules(topology, config, backend, "--mode", "gateway", "--lan-iface", GW_LAN_IF);
            String down = rules(topology, config, backend, "--mode", "gateway", "--lan-iface", GW_LAN_IF, "--down");
            assertThat(up).contains("lookup 123", "-6 route add local ::/0 dev lo table 123");
            hop.awaitListening();
            try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                    "--config", config.toString(), "--control-socket", workspace.work().resolve("c.sock")
                            .toString())) {
                redirector.waitForPort("0.0.0.0", PORT);
                redirector.waitForPort("::", PORT);
                try {
                    apply(topology, up);
                    apply(topology, up);
                    assertOneCopyInForce(topology, backend);
                    assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH)))
                            .isEqualTo(web.page());
                    assertThat(Curl.get(topology.lan(), web.url(WAN_V6, HttpFileServer.PAGE_PATH)))
                            .isEqualTo(web.page());
                    List<String> ends = redirector.awaitLogLines(line -> line.contains(" end "), 2,
                            Duration.ofSeconds(10));
                    assertThat(ends.get(0)).contains("client=" + LAN_V4 + ":", "dst=" + WAN_V4 + ":" + HTTP_PORT,
                            "outcome=ok");
                    assertThat(ends.get(1)).contains("client=[" + LAN_V6 + "]:",
                            "dst=[" + WAN_V6 + "]:" + HTTP_PORT, "outcome=ok");
                    assertThat(hop.sessionCount()).isEqualTo(2);
                    assertThat(topology.gw().exec("iptables-save", "-t", "nat")
                            + topology.gw().exec("nft", "list", "ruleset")).doesNotContainIgnoringCase("redirect");
                } finally {
                    apply(topology, down);
                }
                GeneratedRules.assertNothingInForce(topology.gw(), 123);
                int requests = web.requestLines().size();
                assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH)))
                        .isEqualTo(web.page());
                assertThat(web.awaitRequests(requests + 1, Duration.ofSeconds(10)).get(requests))
                        .as("after --down lan reaches wan directly").startsWith("::ffff:" + LAN_V4 + " ");
                assertThat(hop.sessionCount()).isEqualTo(2);
                assertThat(redirector.stop()).isZero();
            }
        }
    }

    /** One mangle jump, chain and routing entry pair per family, whichever backend, after applying twice. */
    private static void assertOneCopyInForce(GatewayTopology topology, String backend) {
        for (String ip : List.of("-4", "-6")) {
            assertThat(topology.gw().exec("ip", ip, "rule", "list").lines()
                    .filter(l -> l.contains("fwmark 0x10/0x10 lookup 123 proto 67"))).hasSize(1);
            assertThat(topology.gw().exec("ip", ip, "route", "show", "table", "123").lines()
                    .filter(l -> l.startsWith("local default dev lo"))).hasSize(1);
        }
        if (backend.equals("iptables")) {
            for (String save : List.of("iptables-save", "ip6tables-save")) {
                String mangle = topology.gw().exec(save, "-t", "mangle");
                assertThat(mangle.lines().filter(l -> l.equals("-A PREROUTING -i " + GW_LAN_IF + " -j CHAINSOCKS")))
                        .hasSize(1);
                assertThat(mangle.lines().filter(l -> l.contains("-j TPROXY"))).hasSize(1);
            }
        } else {
            String ruleset = topology.gw().exec("nft", "list", "ruleset");
            assertThat(ruleset.lines().filter(l -> l.contains("tproxy to :" + PORT))).hasSize(2);
        }
    }

    private static String rules(GatewayTopology topology, Path config, String backend, String... options) {
        return GeneratedRules.print(topology.gw(), config, backend, options);
    }

    private static void apply(GatewayTopology topology, String script) {
        GeneratedRules.apply(topology.gw(), script);
    }
}
