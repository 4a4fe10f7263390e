package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.GW_WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.LocalTopology;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import dev.chainsocks.e2e.Tinyproxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code chainsocks import-redsocks} on real redsocks files: Debian's shipped /etc/redsocks.conf (from the installed
 * {@code redsocks} package) and a multi-section gateway file. Each import is accepted by {@code check} and then runs
 * as it is, carrying connections through the proxies the redsocks file named.
 */
@Tag("e2e")
class ImportRedsocksE2E {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Path DEBIAN_CONF = Path.of("/etc/redsocks.conf");

    /** Imports {@code redsocksConf}, checks the result and returns its path. */
    private static Path importAndCheck(Netns netns, TestWorkspace workspace, Path redsocksConf) throws Exception {
        Command.Result imported = ChainsocksProcess.runToCompletion(netns, WAIT, "import-redsocks",
                redsocksConf.toString()).requireSuccess();
        Path toml = workspace.writeFile(workspace.newDirectory("imported"), "chainsocks.toml", imported.stdout());
        Command.Result check = ChainsocksProcess.runToCompletion(netns, WAIT, "check", "--config", toml.toString())
                .requireSuccess();
        assertThat(check.stderr()).as("check warnings").doesNotContain("warning");
        return toml;
    }

    /**
     * Debian's file: a listener on 127.0.0.1:12345 and a SOCKS5 proxy on 127.0.0.1:1080 (here the bundled server).
     * This host's connections from a few known source ports are redirected (the proxy's own connections, from other
     * ports, are not), as redsocks' local setup would.
     */
    @Test
    void debiansShippedRedsocksConfWorksAsImported() throws Exception {
        Prerequisites.require("iptables", "ss", "curl", "python3", "redsocks");
        assertThat(DEBIAN_CONF).as("shipped by the redsocks package").isRegularFile();
        TestWorkspace workspace = TestWorkspace.forTest("ImportRedsocksE2E-debian");
        try (LocalTopology topology = LocalTopology.create(workspace);
                HttpFileServer web = HttpFileServer.start(topology.wan(), 8080, 1 << 16)) {
            Path toml = importAndCheck(topology.host(), workspace, DEBIAN_CONF);
            assertThat(Files.readString(toml)).contains("listen = \"127.0.0.1:12345\"",
                    "hops = [\"socks5://127.0.0.1:1080\"]", "redudp { } at /etc/redsocks.conf:");
            BundledHop socks = BundledHop.start(topology.host(), "socks", Endpoint.of("127.0.0.1", 1080), null);
            try (socks; ChainsocksProcess redirector = ChainsocksProcess.start(topology.host(), "run", "run",
                    "--config", toml.toString())) {
                socks.awaitListening();
                redirector.waitForPort("127.0.0.1", 12345);
                topology.host().execScript("iptables -t nat -A OUTPUT -p tcp --sport 40100:40110 -d " + WAN_V4
                        + " -j REDIRECT --to-ports 12345");
                assertThat(Curl.get(topology.host(), web.url(WAN_V4, HttpFileServer.PAGE_PATH), "--local-port",
                        "40100-40110")).isEqualTo(web.page());
                assertThat(redirector.awaitLogLines(line -> line.contains(" end "), 1, Duration.ofSeconds(10))
                        .get(0)).contains("dst=" + WAN_V4 + ":8080", "via=redsocks-1[socks5://127.0.0.1:1080]",
                        "outcome=ok");
                assertThat(socks.sessionCount()).isEqualTo(1);
            }
        }
    }

    /**
     * Two redsocks sections (SOCKS5 with a login, HTTP CONNECT) on a gateway, a redudp section with a fixed
     * destination (a DNS forwarder for the LAN) and a dnstc section that becomes a comment: lan's connections
     * redirected to each listener go through its proxy, and dig asking the redudp listener gets the answer of the DNS
     * responder behind the proxy, which saw the query come from the proxy's UDP relay.
     */
    @Test
    void aMultiSectionGatewayFileWorksAsImported() throws Exception {
        Prerequisites.require("iptables", "ss", "curl", "python3", "tinyproxy", "dig");
        TestWorkspace workspace = TestWorkspace.forTest("ImportRedsocksE2E-multi");
        try (GatewayTopology topology = GatewayTopology.create(workspace);
                HttpFileServer web = HttpFileServer.start(topology.wan(), 8080, 1 << 16);
                Tinyproxy tinyproxy = Tinyproxy.start(topology.wan(), Endpoint.of(WAN_V4, 3128), null)) {
            ManagedProcess dns = UdpPeers.dns(topology.wan(), 5353, "198.18.7.7", WAN_V4);
            BundledHop socks = BundledHop.start(topology.wan(), "socks", Endpoint.of(WAN_V4, 1080), null,
                    "--user", "lan user:pa;ss");
            Path conf = workspace.writeFile(workspace.newDirectory("redsocks"), "redsocks.conf", """
                    base {
                    	log_info = on;
                    	log = stderr;
                    	daemon = off;
                    	redirector = iptables;
                    }
                    redsocks {
                    	local_ip = 0.0.0.0;
                    	local_port = 12345;
                    	ip = %s;
                    	port = 1080;
                    	type = socks5;
                    	login = "lan user";
                    	password = "pa;ss";
                    }
                    redsocks {
                    	local_ip = 0.0.0.0;
                    	local_port = 12346;
                    	ip = %s;
                    	port = 3128;
                    	type = http-connect;
                    	on_proxy_fail = close;
                    }
                    redudp {
                    	local_ip = %s;
                    	local_port = 10053;
                    	ip = %s;
                    	port = 1080;
                    	login = "lan user";
                    	password = "pa;ss";
                    	dest_ip = %s;
                    	dest_port = 5353;
                    	udp_timeout = 20;
                    }
                    dnstc {
                    	local_ip = 127.0.0.1;
                    	local_port = 5300;
                    }
                    """.formatted(WAN_V4, WAN_V4, GW_LAN_V4, WAN_V4, WAN_V4));
            Path toml = importAndCheck(topology.gw(), workspace, conf);
            Path control = workspace.work().resolve("c.sock");
            try (socks; ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                    "--config", toml.toString(), "--control-socket", control.toString())) {
                socks.awaitListening();
                redirector.waitForPort("0.0.0.0", 12345);
                redirector.waitForPort("0.0.0.0", 12346);
                int ends = 0;
                for (int port : List.of(12345, 12346)) {
                    topology.clearRedirects();
                    topology.gw().execScript("iptables -t nat -A PREROUTING -i " + GW_LAN_IF
                            + " -p tcp -m addrtype ! --dst-type LOCAL -j REDIRECT --to-ports " + port);
                    assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH)))
                            .isEqualTo(web.page());
                    ends++;
                }
                List<String> lines = redirector.awaitLogLines(line -> line.contains(" end "), ends,
                        Duration.ofSeconds(10));
                assertThat(lines.get(0)).contains("via=redsocks-1[socks5://lan%20user:***@" + WAN_V4 + ":1080]",
                        "outcome=ok");
                assertThat(lines.get(1)).contains("via=redsocks-2[http://" + WAN_V4 + ":3128]", "outcome=ok");
                assertThat(socks.sessionCount()).isEqualTo(1);
                assertThat(tinyproxy.connectCount()).isEqualTo(1);

                // redudp: lan asks the listener on gw's LAN address, with no firewall rule at all.
                redirector.awaitLogLines(line -> line.contains("listening for UDP on " + GW_LAN_V4 + ":10053"
                        + " (every datagram to " + WAN_V4 + ":5353)"), 1, WAIT);
                Command.Result dig = topology.lan().run(Duration.ofSeconds(20), "dig", "@" + GW_LAN_V4, "-p",
                        "10053", "+short", "+tries=1", "+time=5", "web.example", "A");
                assertThat(dig.requireSuccess().stdout().strip()).isEqualTo("198.18.7.7");
                assertThat(dns.awaitLogLine("query web.example type 1 from " + WAN_V4, WAIT))
                        .as("the responder saw the proxy's relay, not gw or lan").isNotNull();
                assertThat(dns.logText()).doesNotContain("from " + GW_LAN_V4, "from 198.18.1.2");
                assertThat(redirector.awaitLogLines(line -> line.contains("udp flow") && line.contains(" start "), 1,
                        WAIT).get(0)).contains("client=198.18.1.2:", "dst=" + WAN_V4 + ":5353",
                        "via=redudp-1[socks5://lan%20user:***@" + WAN_V4 + ":1080]");
                assertThat(socks.awaitOneNewSession(1)).as("the association").contains("client=" + GW_WAN_V4 + ":");
                Command.Result status = ChainsocksProcess.runToCompletion(topology.gw(), WAIT, "status",
                        "--control-socket", control.toString()).requireSuccess();
                assertThat(status.stdout()).contains("udp listener " + GW_LAN_V4 + ":10053 fixed to " + WAN_V4
                        + ":5353").contains("datagrams: up 1, down 1");
            }
        }
    }
}
