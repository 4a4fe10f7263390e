package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.LocalTopology.HOST_V4;
import static dev.chainsocks.e2e.LocalTopology.WAN_V4;
import static dev.chainsocks.e2e.LocalTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.LocalTopology;
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
 * TPROXY for the machine's own programs: in {@code host}, a plain UDP client and curl, in the same namespace as
 * chainsocks, reach servers in {@code wan} through the hop, with exactly the rules {@code chainsocks rules --mode
 * local} prints. Their packets are marked in mangle OUTPUT, policy routing sends marked packets to lo, and on the way
 * back in through PREROUTING TPROXY hands them to chainsocks' transparent listeners, TCP and UDP. chainsocks' own
 * packets (its connection to the hop, its UDP association, its answers) carry {@code service.mark} or go to a local
 * address and are left alone, so nothing loops. The printed removal leaves nothing, and the host then reaches wan
 * directly.
 */
@Tag("e2e")
class LocalTproxyE2E {

    private static final int TCP_PORT = 12400;
    private static final int UDP_PORT = 12500;
    private static final int HTTP_PORT = 8080;
    private static final int ECHO_PORT = 7007;
    private static final Duration LOG_WAIT = Duration.ofSeconds(30);

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"iptables", "nft"})
    void ownUdpAndTcpGoThroughTheHopWithTheLocalRulesChainsocksPrints(String backend) throws Exception {
        Prerequisites.require("iptables", "ip6tables", "nft", "ip", "ss", "curl", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("LocalTproxyE2E-" + backend);
        try (LocalTopology topology = LocalTopology.create(workspace);
                HttpFileServer web = HttpFileServer.start(topology.wan(), HTTP_PORT, 1 << 16);
                BundledHop hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), null,
                        "--allow-from", "198.18.0.0/15")) {
            UdpPeers.echo(topology.wan(), ECHO_PORT, WAN_V4, WAN_V6);
            Path config = workspace.work().resolve("local-tproxy.toml");
            Files.writeString(config, """
                    [service]
                    mark = 0x2a

                    [[listener]]
                    listen = "0.0.0.0:%1$d"
                    lookup = "tproxy"
                    chains = ["main"]

                    [[listener]]
                    listen = "[::]:%1$d"
                    lookup = "tproxy"
                    chains = ["main"]

                    [[listener]]
                    protocol = "udp"
                    listen = "[::]:%2$d"
                    chains = ["main"]

                    [chain.main]
                    hops = ["%3$s"]

                    [firewall]
                    exempt = ["10.0.0.0/8"]
                    """.formatted(TCP_PORT, UDP_PORT, hop.uri("socks5")));
            String up = GeneratedRules.print(topology.host(), config, backend, "--mode", "local");
            String down = GeneratedRules.print(topology.host(), config, backend, "--mode", "local", "--down");
            hop.awaitListening();
            try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.host(), "run", "run",
                    "--config", config.toString(), "--control-socket", workspace.work().resolve("c.sock")
                            .toString())) {
                redirector.waitForPort("0.0.0.0", TCP_PORT);
                redirector.waitForPort("::", TCP_PORT);
                redirector.awaitLogLines(line -> line.contains("listening for UDP on [::]:" + UDP_PORT), 1,
                        LOG_WAIT);
                try {
                    GeneratedRules.apply(topology.host(), up);
                    GeneratedRules.apply(topology.host(), up);
                    assertOneCopyInForce(topology, backend);

                    // UDP: the echo server saw the hop's relay, not the host; the answer came from where it was sent.
                    assertThat(UdpPeers.ask(topology.host(), WAN_V4, ECHO_PORT, "ping4"))
                            .startsWith("reply from " + WAN_V4 + ":" + ECHO_PORT + " echo " + WAN_V4 + ":")
                            .endsWith(" ping4");
                    assertThat(UdpPeers.ask(topology.host(), WAN_V6, ECHO_PORT, "ping6"))
                            .startsWith("reply from " + WAN_V6 + ":" + ECHO_PORT + " echo " + WAN_V6 + ":")
                            .endsWith(" ping6");
                    List<String> flows = redirector.awaitLogLines(line -> line.contains("udp flow")
                            && line.contains(" start "), 2, LOG_WAIT);
                    assertThat(flows).anySatisfy(line -> assertThat(line).contains("client=" + HOST_V4 + ":",
                            "dst=" + WAN_V4 + ":" + ECHO_PORT, "via=main"));

                    // TCP: curl's connections reached the web server from the hop.
                    assertThat(Curl.get(topology.host(), web.url(WAN_V4, HttpFileServer.PAGE_PATH)))
                            .isEqualTo(web.page());
                    assertThat(Curl.get(topology.host(), web.url(WAN_V6, HttpFileServer.PAGE_PATH)))
                            .isEqualTo(web.page());
                    List<String> ends = redirector.awaitLogLines(line -> line.contains(" end ")
                            && !line.contains("udp flow"), 2, LOG_WAIT);
                    assertThat(ends.get(0)).contains("client=" + HOST_V4 + ":", "dst=" + WAN_V4 + ":" + HTTP_PORT,
                            "outcome=ok");
                    assertThat(ends.get(1)).contains("dst=[" + WAN_V6 + "]:" + HTTP_PORT, "outcome=ok");
                    assertThat(web.awaitRequests(2, LOG_WAIT)).allSatisfy(line -> assertThat(line)
                            .as("from the hop").matches("(::ffff:" + WAN_V4 + "|" + WAN_V6 + ") .*"));
                    // Two TCP sessions and two UDP associations, nothing more: chainsocks' own traffic did not loop.
                    assertThat(hop.awaitNewSessions(0, 4)).hasSize(4);
                    assertThat(redirector.logLines()).noneMatch(line -> line.contains("loop guard"));
                } finally {
                    GeneratedRules.apply(topology.host(), down);
                }
                GeneratedRules.assertNothingInForce(topology.host(), 100);
                assertThat(UdpPeers.ask(topology.host(), WAN_V4, ECHO_PORT, "direct"))
                        .as("after --down the host reaches wan directly")
                        .startsWith("reply from " + WAN_V4 + ":" + ECHO_PORT + " echo " + HOST_V4 + ":");
                assertThat(Curl.get(topology.host(), web.url(WAN_V4, HttpFileServer.PAGE_PATH)))
                        .isEqualTo(web.page());
                assertThat(web.awaitRequests(3, LOG_WAIT).get(2)).startsWith("::ffff:" + HOST_V4 + " ");
                assertThat(hop.sessionCount()).isEqualTo(4);
                assertThat(redirector.stop()).isZero();
            }
        }
    }

    /** One policy rule per family, and one jump or chain of each kind, after applying twice. */
    private static void assertOneCopyInForce(LocalTopology topology, String backend) {
        for (String ip : List.of("-4", "-6")) {
            assertThat(topology.host().exec("ip", ip, "rule", "list").lines()
                    .filter(l -> l.contains("fwmark 0x1/0x1 lookup 100 proto 67"))).hasSize(1);
        }
        if (backend.equals("iptables")) {
            for (String save : List.of("iptables-save", "ip6tables-save")) {
                String mangle = topology.host().exec(save, "-t", "mangle");
                assertThat(mangle.lines().filter(l -> l.equals("-A PREROUTING -i lo -j CHAINSOCKS"))).hasSize(1);
                assertThat(mangle.lines().filter(l -> l.equals("-A OUTPUT -j CHAINSOCKS_MARK"))).hasSize(1);
                assertThat(mangle.lines().filter(l -> l.contains("-j TPROXY"))).hasSize(2);
            }
        } else {
            String ruleset = topology.host().exec("nft", "list", "ruleset");
            assertThat(ruleset.lines().filter(l -> l.contains("chain reroute"))).hasSize(2);
            assertThat(ruleset.lines().filter(l -> l.contains("tproxy to"))).hasSize(4);
        }
    }
}
