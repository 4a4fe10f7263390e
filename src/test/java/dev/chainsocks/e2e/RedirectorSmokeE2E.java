package dev.chainsocks.e2e;

import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The shortest proof of the product: a lan client's plain curl crosses gw's REDIRECT, chainsocks and two hops. */
@Tag("e2e")
class RedirectorSmokeE2E {

    @Test
    void lanCurlReachesWanThroughTwoBundledSocksHops() throws Exception {
        Prerequisites.require("iptables", "ip6tables", "ss", "curl", "python3");
        try (GatewayTopology topology = GatewayTopology.create(TestWorkspace.forTest("RedirectorSmokeE2E"));
                HttpFileServer web = HttpFileServer.start(topology.wan(), 8080, 1 << 20);
                ChainsocksProcess hop1 = ChainsocksProcess.start(topology.wan(), "hop1", "socks-server",
                        "--listen", WAN_V4 + ":1080", "--allow-from", "198.18.0.0/15");
                ChainsocksProcess hop2 = ChainsocksProcess.start(topology.wan(), "hop2", "socks-server",
                        "--listen", WAN_V4 + ":1081", "--allow-from", "198.18.0.0/15")) {
            hop1.waitForPort(WAN_V4, 1080);
            hop2.waitForPort(WAN_V4, 1081);
            topology.redirectLanTcp(12345);
            try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                    "--listen", "0.0.0.0:12345", "--via", "socks5://" + WAN_V4 + ":1080",
                    "--via", "socks4a://" + WAN_V4 + ":1081")) {
                redirector.waitForPort("0.0.0.0", 12345);
                String page = Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH));
                assertThat(page).isEqualTo(web.page());
                assertThat(redirector.awaitLogLines(line -> line.contains(" end ") && line.contains("outcome=ok"), 1,
                        Duration.ofSeconds(10)).get(0)).contains("dst=" + WAN_V4 + ":8080");
                // Each hop carried it: hop 1 was asked for hop 2, hop 2 for the web server (a socks4a hop asked
                // for an IP address sends the plain SOCKS4 form: 4a's name form is only for names).
                assertThat(hop1.awaitLogLines(line -> line.contains(" end ") && line.contains("outcome=ok"), 1,
                        Duration.ofSeconds(10)).get(0)).contains("dst=" + WAN_V4 + ":1081").contains("via=socks5 ");
                assertThat(hop2.awaitLogLines(line -> line.contains(" end ") && line.contains("outcome=ok"), 1,
                        Duration.ofSeconds(10)).get(0)).contains("dst=" + WAN_V4 + ":8080").contains("via=socks4 CONNECT");
                assertThat(redirector.stop()).isZero();
            }
        }
    }
}
