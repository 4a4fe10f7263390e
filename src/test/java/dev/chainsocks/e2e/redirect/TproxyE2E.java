package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
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
import org.junit.jupiter.api.Test;

/**
 * The TPROXY lookup: no NAT at all. gw's mangle table hands lan's TCP to a transparent socket (IP_TRANSPARENT),
 * whose local address is the original destination; chainsocks reads it with getsockname and dials it through a hop.
 */
@Tag("e2e")
class TproxyE2E {

    private static final int PORT = 12400;

    @Test
    void lanCurlReachesWanThroughATransparentListener() throws Exception {
        Prerequisites.require("iptables", "ss", "curl", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("TproxyE2E");
        try (GatewayTopology topology = GatewayTopology.create(workspace);
                HttpFileServer web = HttpFileServer.start(topology.wan(), 8080, 1 << 16);
                BundledHop hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), null,
                        "--allow-from", "198.18.0.0/15")) {
            // The usual TPROXY recipe: marked packets are delivered locally, whatever their destination.
            topology.gw().execScript("""
                    ip rule add fwmark 0x1 lookup 100
                    ip route add local 0.0.0.0/0 dev lo table 100
                    iptables -t mangle -A PREROUTING -i %s -p tcp -j TPROXY --on-port %d --on-ip 0.0.0.0 \
                      --tproxy-mark 0x1/0x1
                    """.formatted(GW_LAN_IF, PORT));
            Path config = workspace.work().resolve("tproxy.toml");
            Files.writeString(config, """
                    [[listener]]
                    listen = "0.0.0.0:%d"
                    lookup = "tproxy"
                    chains = ["main"]

                    [chain.main]
                    hops = ["%s"]
                    """.formatted(PORT, hop.uri("socks5")));
            hop.awaitListening();
            try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                    "--config", config.toString(), "--control-socket", workspace.work().resolve("c.sock")
                            .toString())) {
                redirector.waitForPort("0.0.0.0", PORT);
                assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH))).isEqualTo(web.page());
                List<String> ends = redirector.awaitLogLines(line -> line.contains(" end "), 1, Duration.ofSeconds(10));
                assertThat(ends.get(0)).contains("client=" + LAN_V4 + ":", "dst=" + WAN_V4 + ":8080", "outcome=ok");
                assertThat(redirector.logText()).contains("tproxy getsockname");
                assertThat(hop.sessionCount()).isEqualTo(1);
                assertThat(topology.gw().exec("iptables", "-t", "nat", "-S")).doesNotContain("REDIRECT");
                assertThat(redirector.stop()).isZero();
            }
        }
    }
}
