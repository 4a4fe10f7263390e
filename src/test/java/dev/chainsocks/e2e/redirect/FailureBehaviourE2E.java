package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a lan client sees when the chain cannot reach the destination, and what the log says: the client is reset at
 * once (not left waiting for a timeout) and the access log names the chain, the hop and the reply. Also failover
 * between chains with its backoff, and the loop guard refusing a connection to chainsocks' own listener.
 */
@Tag("e2e")
class FailureBehaviourE2E {

    /** A failed dial must reach the client well before any timeout (connect 10s, dial 30s). */
    private static final Duration PROMPT = Duration.ofSeconds(2);
    private static final int HTTP_PORT = 8080;
    /** Nothing listens here in wan: connecting to it is refused. */
    private static final int CLOSED_PORT = 9999;
    private static final Endpoint DEAD_HOP = Endpoint.of(WAN_V4, 1099);
    private static final String BACKOFF = "6s";

    private static GatewayTopology topology;
    private static HttpFileServer web;
    private static BundledHop hop1;
    private static BundledHop hop2;
    private static BundledHop authHop;
    private static ChainsocksProcess redirector;
    private static final Map<String, Integer> ports = new LinkedHashMap<>();

    @BeforeAll
    static void startChains() {
        Prerequisites.require("iptables", "ip6tables", "ss", "curl", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("FailureBehaviourE2E");
        topology = GatewayTopology.create(workspace);
        web = HttpFileServer.start(topology.wan(), HTTP_PORT, 1 << 16);
        String[] allow = {"--allow-from", "198.18.0.0/15"};
        hop1 = BundledHop.start(topology.wan(), "hop1", Endpoint.of(WAN_V4, 1080), null, allow);
        hop2 = BundledHop.start(topology.wan(), "hop2", Endpoint.of(WAN_V4, 1081), null, allow);
        authHop = BundledHop.start(topology.wan(), "hop-auth", Endpoint.of(WAN_V4, 1090), null,
                "--user", HopKind.USER + ":" + HopKind.PASSWORD);

        RedirectorConfig config = new RedirectorConfig().timeout("connect", "5s").timeout("handshake", "5s");
        strict(config, "one-hop", hop1.uri("socks5"));
        strict(config, "two-hops", hop1.uri("socks5"), hop2.uri("http"));
        strict(config, "dead-first", "socks5://" + DEAD_HOP);
        strict(config, "dead-second", hop1.uri("socks5"), "socks5://" + DEAD_HOP);
        strict(config, "wrong-password", hop1.uri("socks5"), authHop.uri("socks5", HopKind.USER + ":wrong"));
        int failoverPort = 12301 + ports.size();
        ports.put("failover", failoverPort);
        config.listener("0.0.0.0:" + failoverPort, "failover", BACKOFF, "dead", "live")
                .chain("dead", "socks5://" + DEAD_HOP)
                .chain("live", hop2.uri("socks5"));
        Path file = config.writeTo(workspace, "failure.toml");

        redirector = ChainsocksProcess.start(topology.gw(), "run", "run", "--config", file.toString());
        List.of(hop1, hop2, authHop).forEach(BundledHop::awaitListening);
        ports.values().forEach(port -> redirector.waitForPort("0.0.0.0", port));
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    private static void strict(RedirectorConfig config, String chain, String... hops) {
        int port = 12301 + ports.size();
        ports.put(chain, port);
        config.strictListener("0.0.0.0:" + port, chain).chain(chain, hops);
    }

    /**
     * Redirects lan's TCP to {@code port}, except connections to gw's own addresses, which the generated rules
     * also leave alone ({@code addrtype LOCAL}).
     */
    private static void redirectLanTo(int port) {
        topology.clearRedirects();
        topology.gw().execScript("iptables -t nat -A PREROUTING -i " + GW_LAN_IF
                + " -p tcp -m addrtype ! --dst-type LOCAL -j REDIRECT --to-ports " + port);
    }

    /** curl from lan, timed. */
    private record Attempt(Command.Result result, Duration elapsed) {
    }

    private static Attempt curl(String url) {
        long start = System.nanoTime();
        Command.Result result = Curl.run(topology.lan(), url);
        return new Attempt(result, Duration.ofNanos(System.nanoTime() - start));
    }

    private static String url(int port) {
        return "http://" + Endpoint.of(WAN_V4, port) + HttpFileServer.PAGE_PATH;
    }

    /** The end line of the next session of chain {@code chain}, after {@code before} such lines. */
    private static String awaitEnd(String chain, int before) {
        List<String> ends = redirector.awaitLogLines(line -> AccessLogLines.isEnd(line)
                && AccessLogLines.viaChain(line, chain), before + 1, BundledHop.LOG_WAIT);
        return ends.get(ends.size() - 1);
    }

    private static int endCount(String chain) {
        return (int) redirector.logLines().stream()
                .filter(line -> AccessLogLines.isEnd(line) && AccessLogLines.viaChain(line, chain)).count();
    }

    private static void assertResetPromptly(Attempt attempt) {
        assertThat(attempt.result().succeeded()).as(attempt.result().describe()).isFalse();
        // A reset that arrives while curl still polls its non-blocking connect is reported as "couldn't connect"
        // (7): the kernel completed the handshake with chainsocks, which reset it within milliseconds.
        assertThat(attempt.result().exitCode()).as("curl: connection reset (56), empty reply (52), or reset seen"
                + " during connect (7)\n" + attempt.result().describe()).isIn(7, 52, 56);
        assertThat(attempt.elapsed()).as("time until curl saw the failure").isLessThan(PROMPT);
    }

    /**
     * The refusal as the last hop reports it: a SOCKS5 reply code, or the HTTP status of a refused CONNECT. The
     * chain worked, so the outcome blames the destination.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "one-hop, hop 1/1 socks5://198.19.2.2:1080, CONNECTION_REFUSED(0x05)",
        "two-hops, hop 2/2 http://198.19.2.2:1081, HTTP 502"})
    void destinationRefusedAtTheLastHopResetsTheClient(String chain, String failingHop, String reply) {
        redirectLanTo(ports.get(chain));
        int warm = endCount(chain);
        curl(url(HTTP_PORT)); // warm the path, so the timing below is about the failure, not a cold JVM
        awaitEnd(chain, warm); // the warm-up's own end line can come after curl has its answer: wait for it
        int before = warm + 1;

        Attempt attempt = curl(url(CLOSED_PORT));

        assertResetPromptly(attempt);
        assertThat(awaitEnd(chain, before))
                .contains(" dst=" + WAN_V4 + ":" + CLOSED_PORT + " ")
                .contains(" outcome=destination refused: chain " + chain + ": " + failingHop + " ")
                .contains("CONNECT " + WAN_V4 + ":" + CLOSED_PORT)
                .contains(reply);
    }

    @Test
    void deadFirstHopResetsTheClient() {
        redirectLanTo(ports.get("dead-first"));
        int before = endCount("dead-first");

        Attempt attempt = curl(url(HTTP_PORT));

        assertResetPromptly(attempt);
        assertThat(awaitEnd("dead-first", before))
                .contains(" dst=" + WAN_V4 + ":" + HTTP_PORT + " ")
                .contains(" outcome=dial failed: chain dead-first: hop 1/1 socks5://" + DEAD_HOP
                        + " connect failed: Connection refused");
    }

    @Test
    void deadSecondHopIsReportedByTheFirst() {
        redirectLanTo(ports.get("dead-second"));
        int before = endCount("dead-second");
        int hop1Before = hop1.sessionCount();

        Attempt attempt = curl(url(HTTP_PORT));

        assertResetPromptly(attempt);
        assertThat(awaitEnd("dead-second", before))
                .contains(" outcome=dial failed: chain dead-second: hop 1/2 socks5://" + hop1.v4() + " ")
                .contains("CONNECT " + DEAD_HOP)
                .contains("CONNECTION_REFUSED");
        assertThat(hop1.awaitOneNewSession(hop1Before)).contains(" dst=" + DEAD_HOP + " ");
    }

    @Test
    void wrongPasswordAtTheSecondHopFailsTheDial() {
        redirectLanTo(ports.get("wrong-password"));
        int before = endCount("wrong-password");

        Attempt attempt = curl(url(HTTP_PORT));

        assertResetPromptly(attempt);
        assertThat(awaitEnd("wrong-password", before))
                .contains(" outcome=dial failed: chain wrong-password: hop 2/2 socks5://" + HopKind.USER + ":***@"
                        + authHop.v4() + " ")
                .doesNotContain(":wrong@");
        assertThat(authHop.process().awaitLogLines(AccessLogLines::isRefused, 1, BundledHop.LOG_WAIT))
                .anyMatch(line -> line.contains(HopKind.USER));
    }

    /**
     * Policy failover with chains {@code dead} then {@code live}: the first connection tries {@code dead}, logs its
     * failure and succeeds through {@code live}; while {@code dead} is in backoff the next connection goes straight
     * to {@code live}; after the backoff chainsocks probes {@code dead} with a connection of its own, and while the
     * probe fails users' connections still go straight to {@code live}.
     */
    @Test
    void failoverUsesTheLiveChainAndSkipsTheDeadOneDuringBackoff() throws InterruptedException {
        redirectLanTo(ports.get("failover"));
        int liveBefore = endCount("live");

        assertThat(Curl.get(topology.lan(), url(HTTP_PORT))).isEqualTo(web.page());
        long firstFailureNanos = System.nanoTime();
        String first = AccessLogLines.normalized(awaitEnd("live", liveBefore));
        assertThat(first).endsWith(" outcome=ok");
        assertThat(deadFailures()).hasSize(1).allMatch(line -> line.contains("chain dead: hop 1/1 socks5://"
                + DEAD_HOP + " connect failed: Connection refused"));
        assertThat(startOf(first)).as("the first connection started on the preferred chain").contains(" via=dead[");

        assertThat(Curl.get(topology.lan(), url(HTTP_PORT))).isEqualTo(web.page());
        String second = awaitEnd("live", liveBefore + 1);
        assertThat(Duration.ofNanos(System.nanoTime() - firstFailureNanos))
                .as("the second fetch must happen within the backoff for this test to mean anything")
                .isLessThan(Duration.parse("PT" + BACKOFF));
        assertThat(second).endsWith(" outcome=ok");
        assertThat(startOf(second)).as("dead is in backoff: live goes first").contains(" via=live[");
        assertThat(deadFailures()).as("dead was not tried again during the backoff").hasSize(1);

        String probe = redirector.awaitLogLines(line -> line.contains("chain dead[") && line.contains(" is still down: "),
                1, Duration.parse("PT" + BACKOFF).multipliedBy(3)).get(0);
        assertThat(probe).contains("probe of hop 1 socks5://" + DEAD_HOP + ": connect failed");
        assertThat(Curl.get(topology.lan(), url(HTTP_PORT))).isEqualTo(web.page());
        String third = awaitEnd("live", liveBefore + 2);
        assertThat(startOf(third)).as("after the backoff a probe, not a user, tries dead").contains(" via=live[");
        assertThat(deadFailures()).as("no user's connection waited for dead again").hasSize(1);
    }

    private static List<String> deadFailures() {
        return redirector.logLines().stream()
                .filter(line -> line.matches(".* session \\d+: chain dead: .*")).toList();
    }

    /** The start line of the session whose end line is {@code end}. */
    private static String startOf(String end) {
        String id = end.replaceAll(".* session (\\d+) end .*", "$1");
        return redirector.logLines().stream().filter(line -> line.contains(" session " + id + " start "))
                .findFirst().orElseThrow(() -> new AssertionError("no start line for session " + id));
    }

    /**
     * A lan client connects straight to chainsocks' listener on gw. Whether the REDIRECT rule leaves it alone (as the
     * generated rules do) or catches it too, the original destination is the listener itself: the loop guard
     * refuses it, logs why, and dials nothing.
     */
    @ParameterizedTest(name = "redirect rule catches gw's own address: {0}")
    @CsvSource({"false", "true"})
    void directConnectionToTheListenerIsRefusedByTheLoopGuard(boolean ruleCatchesOwnAddress) {
        int port = ports.get("one-hop");
        if (ruleCatchesOwnAddress) {
            topology.clearRedirects();
            topology.redirectLanTcp(port);
        } else {
            redirectLanTo(port);
        }
        int hop1Before = hop1.sessionCount();
        int refusedBefore = refusedLines().size();

        Attempt attempt = curl("http://" + Endpoint.of(GW_LAN_V4, port) + "/");

        assertThat(attempt.result().succeeded()).as(attempt.result().describe()).isFalse();
        assertThat(attempt.elapsed()).isLessThan(PROMPT);
        redirector.awaitLogLines(AccessLogLines::isRefused, refusedBefore + 1, BundledHop.LOG_WAIT);
        assertThat(refusedLines().get(refusedBefore))
                .contains(" client=" + LAN_V4 + ":")
                .contains(" reason=loop: the original destination is chainsocks' own listener "
                        + Endpoint.of(GW_LAN_V4, port));
        assertThat(redirector.logLines()).anyMatch(line -> line.contains("loop guard: refusing connections from "
                + LAN_V4));
        assertThat(hop1.sessionCount()).as("nothing was dialed").isEqualTo(hop1Before);
    }

    private static List<String> refusedLines() {
        return redirector.logLines().stream().filter(AccessLogLines::isRefused).toList();
    }
}
