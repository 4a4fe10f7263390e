package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import dev.chainsocks.e2e.Tinyproxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The redsocks features around plain HTTP, against real peers: an {@code http-relay} last hop through tinyproxy
 * configured to refuse CONNECT to anything but port 443, and {@code on-proxy-fail = "http-error"} answering a
 * port-80 client with a 502 page when the chain is dead (and still resetting other ports).
 */
@Tag("e2e")
class HttpParityE2E {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final int WEB_PORT = 80;
    private static final int OTHER_WEB_PORT = 8080;
    private static final Endpoint PROXY = Endpoint.of(WAN_V4, 3128);
    private static final int RELAY_PORT = 12501;
    private static final int FAILING_PORT = 12502;

    private static GatewayTopology topology;
    private static HttpFileServer web;
    private static HttpFileServer otherWeb;
    private static Tinyproxy tinyproxy;
    private static ChainsocksProcess redirector;

    @BeforeAll
    static void start() {
        Prerequisites.require("iptables", "ss", "curl", "python3", "tinyproxy");
        TestWorkspace workspace = TestWorkspace.forTest("HttpParityE2E");
        topology = GatewayTopology.create(workspace);
        web = HttpFileServer.start(topology.wan(), WEB_PORT, 1 << 16);
        otherWeb = HttpFileServer.start(topology.wan(), OTHER_WEB_PORT, 1 << 10);
        tinyproxy = Tinyproxy.start(topology.wan(), PROXY, null, List.of("ConnectPort 443"));
        Path config = workspace.writeFile(workspace.newDirectory("conf"), "http.toml", """
                [[listener]]
                listen = "0.0.0.0:%d"
                chains = ["relay"]

                [[listener]]
                listen = "0.0.0.0:%d"
                chains = ["dead"]
                on-proxy-fail = "http-error"

                [chain.relay]
                hops = ["http-relay://%s"]

                [chain.dead]
                hops = ["socks5://%s"]
                """.formatted(RELAY_PORT, FAILING_PORT, PROXY, Endpoint.of(WAN_V4, 1099)));
        redirector = ChainsocksProcess.start(topology.gw(), "run", "run", "--config", config.toString());
        redirector.waitForPort("0.0.0.0", RELAY_PORT);
        redirector.waitForPort("0.0.0.0", FAILING_PORT);
    }

    @AfterAll
    static void stop() {
        if (topology != null) {
            topology.close();
        }
    }

    private static void redirectLanTo(int port) {
        topology.clearRedirects();
        topology.gw().execScript("iptables -t nat -A PREROUTING -i " + GW_LAN_IF
                + " -p tcp -m addrtype ! --dst-type LOCAL -j REDIRECT --to-ports " + port);
    }

    private static List<String> endLines(int count) {
        return redirector.awaitLogLines(line -> line.contains(" end "), count, LOG_WAIT);
    }

    @Test
    void plainHttpGoesThroughAProxyThatRefusesConnectToPort80() {
        // The proxy really refuses to tunnel to port 80: curl's own CONNECT through it fails.
        topology.clearRedirects();
        Command.Result tunnel = Curl.run(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH),
                "--proxytunnel", "--proxy", "http://" + PROXY);
        assertThat(tunnel.succeeded()).as(tunnel.describe()).isFalse();
        assertThat(tunnel.stderr()).contains("403");

        long connects = tinyproxy.connectCount();
        redirectLanTo(RELAY_PORT);
        int ends = redirector.logLines().stream().filter(line -> line.contains(" end ")).toList().size();
        int requests = web.requestLines().size();
        assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH))).isEqualTo(web.page());
        // A second request on a new connection is rewritten as well.
        assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.BIG_PATH), "-o", "/dev/null",
                "-w", "%{size_download}")).isEqualTo(String.valueOf(web.bigSize()));
        List<String> lines = endLines(ends + 2).subList(ends, ends + 2);
        assertThat(lines).allSatisfy(line -> assertThat(line).contains("dst=" + WAN_V4 + ":80",
                "via=relay[http-relay://" + PROXY + "]", "outcome=ok"));
        assertThat(tinyproxy.process().awaitLogLine(": GET http://" + WAN_V4 + ":80" + HttpFileServer.PAGE_PATH
                + " HTTP/1.1", LOG_WAIT)).isNotEmpty();
        assertThat(tinyproxy.connectCount()).as("no CONNECT from chainsocks").isEqualTo(connects);
        // The web server saw the requests come from the proxy (in wan), not from lan.
        assertThat(web.awaitRequests(requests + 2, LOG_WAIT).subList(requests, requests + 2))
                .allSatisfy(line -> assertThat(line).doesNotContain("198.18.1."));
    }

    @Test
    void aDeadChainAnswersPort80WithA502PageAndResetsOtherPorts() {
        redirectLanTo(FAILING_PORT);
        int ends = redirector.logLines().stream().filter(line -> line.contains(" end ")).toList().size();
        Command.Result page = topology.lan().run(Duration.ofSeconds(30), "curl", "-sS", "-i", "--max-time", "10",
                web.url(WAN_V4, HttpFileServer.PAGE_PATH));
        assertThat(page.exitCode()).as(page.describe()).isZero();
        assertThat(page.stdout()).startsWith("HTTP/1.1 502 Bad Gateway\r\n")
                .contains("Connection: close\r\n", "The proxy chain could not reach " + WAN_V4 + ":80.");
        assertThat(endLines(ends + 1).get(ends)).contains("dst=" + WAN_V4 + ":80", "outcome=dial failed: ",
                "(answered HTTP 502)");

        Command.Result other = Curl.run(topology.lan(), otherWeb.url(WAN_V4, HttpFileServer.PAGE_PATH));
        // The reset can reach curl before it has read the connect's result: then curl says it could not connect (7)
        // instead of "Recv failure: Connection reset by peer" (56). The end line below shows which it was.
        assertThat(other.exitCode()).as(other.describe()).isIn(7, 56);
        assertThat(other.stdout()).doesNotContain("502");
        assertThat(endLines(ends + 2).get(ends + 1)).contains("dst=" + WAN_V4 + ":" + OTHER_WEB_PORT,
                "outcome=dial failed: ").doesNotContain("502");
    }
}
