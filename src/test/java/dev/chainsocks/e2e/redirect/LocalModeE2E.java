package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.LocalTopology.HOST_V4;
import static dev.chainsocks.e2e.LocalTopology.WAN_V4;
import static dev.chainsocks.e2e.LocalTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.LocalTopology;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.SystemUser;
import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * chainsocks for the machine it runs on: the host's own programs (a plain curl) are redirected in nat OUTPUT by the
 * rules that {@code chainsocks rules --mode local} generates, and chainsocks' own upstream connections are exempted
 * by the user it runs as ({@code --owner-uid}) or by its {@code [service] mark}.
 *
 * <p>The first hop is given by a name ({@code proxy.test}, in the host's hosts file), which the generator does not
 * resolve and so does not exempt: only the owner or mark exemption keeps chainsocks from catching its own
 * connection. Without either, the loop guard must notice.
 */
@Tag("e2e")
class LocalModeE2E {

    private static final int HTTP_PORT = 8080;
    private static final int LISTEN_PORT = 12345;
    private static final int MARK = 0x2a;
    private static final String PROXY_NAME = "proxy.test";

    private static LocalTopology topology;
    private static HttpFileServer web;
    private static BundledHop hop;

    @BeforeAll
    static void startWanAndHop() {
        Prerequisites.require("iptables", "ip6tables", "iptables-save", "ip6tables-save", "ss", "curl", "python3",
                "useradd", "userdel", "chpasswd", "setpriv");
        topology = LocalTopology.create(TestWorkspace.forTest("LocalModeE2E"));
        topology.host().addHost(PROXY_NAME, WAN_V4);
        web = HttpFileServer.start(topology.wan(), HTTP_PORT, 1 << 16);
        hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), Endpoint.of(WAN_V6, 1080),
                "--allow-from", "198.18.0.0/15", "--allow-from", "fd00::/8").awaitListening();
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    private static RedirectorConfig config() {
        return new RedirectorConfig()
                .strictListener("[::]:" + LISTEN_PORT, "main")
                .chain("main", "socks5://" + PROXY_NAME + ":" + hop.v4().port())
                .exempt("127.0.0.0/8", "::1/128");
    }

    @Test
    void ownerUidExemptionFromGeneratedRules() {
        TestWorkspace workspace = topology.workspace();
        try (SystemUser user = SystemUser.create()) {
            Path file = config().writeTo(workspace, "local-uid.toml");
            // The harness stages the jar and this file where the user can read them, and gives the process a
            // control socket in its own directory, which the user owns.
            ChainsocksProcess redirector = ChainsocksProcess.startAs(user, topology.host(), "run-as-user", "run",
                    "--config", file.toString());
            try {
                redirector.waitForPort("::", LISTEN_PORT);
                Path socket = redirector.controlSocket().orElseThrow();
                assertThat(ChainsocksProcess.runToCompletion(topology.host(), Duration.ofSeconds(60), "status",
                        "--control-socket", socket.toString()).requireSuccess().stdout())
                        .as("status over the control socket of the service run as " + user).contains("listener [::]:"
                                + LISTEN_PORT);
                assertRedirectedWhileRulesAreUp(redirector, file, "--owner-uid", Integer.toString(user.uid()));
            } finally {
                redirector.stop();
            }
        }
    }

    @Test
    void serviceMarkExemptionFromGeneratedRules() {
        Path file = config().mark(MARK).writeTo(topology.workspace(), "local-mark.toml");
        try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.host(), "run-with-mark", "run",
                "--config", file.toString())) {
            redirector.waitForPort("::", LISTEN_PORT);
            assertRedirectedWhileRulesAreUp(redirector, file);
        }
    }

    /**
     * Hand-written rules that exempt some other mark, not chainsocks' own: its connection to the first hop is
     * redirected back to it. The loop guard refuses that connection, so the client's dial fails instead of looping.
     */
    @Test
    void loopGuardRefusesOwnUpstreamConnectionWhenTheExemptionIsMissing() {
        Path file = config().mark(MARK).writeTo(topology.workspace(), "local-loop.toml");
        try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.host(), "run-without-exemption", "run",
                "--config", file.toString())) {
            redirector.waitForPort("::", LISTEN_PORT);
            int hopBefore = hop.sessionCount();
            topology.redirectOutputTcpExceptMark(LISTEN_PORT, MARK + 1);
            try {
                long start = System.nanoTime();
                Command.Result curl = Curl.run(topology.host(), url(WAN_V4));
                Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
                assertThat(curl.succeeded()).as(curl.describe()).isFalse();
                assertThat(elapsed).as("the looped dial fails at once").isLessThan(Duration.ofSeconds(3));
            } finally {
                topology.clearRedirects();
            }
            assertThat(redirector.awaitLogLines(line -> line.contains("loop guard: refusing connections from "), 1,
                    BundledHop.LOG_WAIT).get(0)).contains("own upstream socket");
            assertThat(redirector.awaitLogLines(line -> AccessLogLines.isEnd(line)
                    && line.contains(" dst=" + WAN_V4 + ":" + HTTP_PORT + " "), 1, BundledHop.LOG_WAIT).get(0))
                    .contains(" outcome=dial failed: chain main: hop 1/1 socks5://" + PROXY_NAME + ":");
            assertThat(hop.sessionCount()).as("nothing reached the hop").isEqualTo(hopBefore);
        }
    }

    /**
     * Applies {@code rules --mode local [extra]}; a plain curl in the host, IPv4 and IPv6, goes through chainsocks
     * and the hop; {@code --down} removes every CHAINSOCKS chain and curl goes direct again.
     */
    private static void assertRedirectedWhileRulesAreUp(ChainsocksProcess redirector, Path config, String... extra) {
        Command.Result up = rules(config, false, extra);
        assertThat(up.stderr()).as("a first hop given by name is not exempted by address")
                .contains("warning").contains(PROXY_NAME);
        try {
            apply(up.stdout(), "up");
            assertThat(natTables()).contains("CHAINSOCKS");
            assertFetchedThroughChainsocks(redirector, Endpoint.of(WAN_V4, HTTP_PORT));
            assertFetchedThroughChainsocks(redirector, Endpoint.of(WAN_V6, HTTP_PORT));
        } finally {
            apply(rules(config, true, extra).stdout(), "down");
        }
        assertThat(natTables()).doesNotContain("CHAINSOCKS");

        int requestsBefore = web.requestLines().size();
        int sessionsBefore = endLines(redirector).size();
        assertThat(Curl.get(topology.host(), url(WAN_V4))).isEqualTo(web.page());
        assertThat(web.awaitRequests(requestsBefore + 1, BundledHop.LOG_WAIT).get(requestsBefore))
                .as("after --down the host reaches wan directly").startsWith("::ffff:" + HOST_V4 + " ");
        assertThat(endLines(redirector)).hasSize(sessionsBefore);
    }

    private static void assertFetchedThroughChainsocks(ChainsocksProcess redirector, Endpoint target) {
        int hopBefore = hop.sessionCount();
        int endsBefore = endLines(redirector).size();
        int requestsBefore = web.requestLines().size();

        assertThat(Curl.get(topology.host(), url(target))).isEqualTo(web.page());

        redirector.awaitLogLines(AccessLogLines::isEnd, endsBefore + 1, BundledHop.LOG_WAIT);
        List<String> ends = endLines(redirector);
        assertThat(ends.get(ends.size() - 1)).contains(" dst=" + target + " ").endsWith(" outcome=ok");
        assertThat(hop.awaitOneNewSession(hopBefore)).contains(" client=" + HOST_V4 + ":")
                .contains(" dst=" + target + " ");
        assertThat(web.awaitRequests(requestsBefore + 1, BundledHop.LOG_WAIT).get(requestsBefore))
                .as("the request reached the web server from the hop, not from the host")
                .startsWith(target.isIpv6() ? WAN_V6 + " " : "::ffff:" + WAN_V4 + " ");
    }

    private static List<String> endLines(ChainsocksProcess redirector) {
        return redirector.logLines().stream().filter(AccessLogLines::isEnd).map(AccessLogLines::normalized).toList();
    }

    private static String url(String host) {
        return url(Endpoint.of(host, HTTP_PORT));
    }

    private static String url(Endpoint target) {
        return "http://" + target + HttpFileServer.PAGE_PATH;
    }

    private static Command.Result rules(Path config, boolean down, String... extra) {
        List<String> args = new ArrayList<>(List.of("rules", "--config", config.toString(), "--backend", "iptables",
                "--mode", "local"));
        args.addAll(List.of(extra));
        if (down) {
            args.add("--down");
        }
        return ChainsocksProcess.runToCompletion(topology.host(), Duration.ofSeconds(60), args.toArray(String[]::new))
                .requireSuccess();
    }

    private static void apply(String script, String name) {
        TestWorkspace workspace = topology.workspace();
        Path file = workspace.writeFile(workspace.newDirectory("rules"), name + ".sh", script);
        topology.host().execScript("sh -e " + file);
    }

    private static String natTables() {
        return topology.host().exec("iptables-save", "-t", "nat") + topology.host().exec("ip6tables-save", "-t", "nat");
    }
}
