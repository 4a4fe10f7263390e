package dev.chainsocks.e2e.peers;

import static dev.chainsocks.e2e.GatewayTopology.GW_WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.peers.PeerNetwork.HANDSHAKE_TIMEOUT;
import static dev.chainsocks.e2e.peers.PeerNetwork.LOG_WAIT;
import static dev.chainsocks.e2e.peers.PeerNetwork.TINYPROXY_CREDENTIALS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Dante;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.SystemUser;
import dev.chainsocks.e2e.Tinyproxy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A third-party hop that rejects chainsocks' credentials: the lan client's connection is closed at once (not after a
 * timeout), the target never sees a request, and the access log's outcome names the chain, the hop (number and URI,
 * password hidden) and the proxy's answer. The wrong password itself appears nowhere in chainsocks' log.
 *
 * <p>tinyproxy 1.11 answers a CONNECT without credentials with {@code 407 Proxy Authentication Required} but one with
 * a wrong Basic password with {@code 401 Unauthorized}; chainsocks reports both as "authentication failed".
 */
@Tag("e2e")
class PeerAuthFailureE2E {

    private static final String WRONG_PASSWORD = "not-the-pa55word";
    private static final int TINYPROXY_PORT = 8888;
    private static final Duration PROMPTLY = HANDSHAKE_TIMEOUT.dividedBy(2);
    private static final String WRONG_TINYPROXY_HOP_SHOWN = "http://" + TINYPROXY_CREDENTIALS.user() + ":***@"
            + WAN_V4 + ":" + TINYPROXY_PORT;

    private static PeerNetwork network;
    private static SystemUser user;
    private static Dante dante;
    private static Dante danteWithAuth;
    private static Tinyproxy tinyproxy;

    @BeforeAll
    static void startPeersAndChainsocks() {
        Prerequisites.require("iptables", "ip6tables", "ss", "sysctl", "curl", "python3", "danted", "tinyproxy",
                "useradd", "userdel", "chpasswd");
        network = PeerNetwork.create("PeerAuthFailureE2E", 1 << 20);
        user = network.systemUser();
        dante = network.dante(1080);
        danteWithAuth = network.danteWithUsername(1082, user);
        tinyproxy = network.tinyproxy(TINYPROXY_PORT, TINYPROXY_CREDENTIALS);

        String wrongTinyproxyHop = "http://" + TINYPROXY_CREDENTIALS.user() + ":" + WRONG_PASSWORD + "@"
                + tinyproxy.endpoint();
        Map<String, List<String>> chains = new LinkedHashMap<>();
        chains.put("dante-wrong-password", List.of("socks5://" + user.name() + ":" + WRONG_PASSWORD + "@"
                + danteWithAuth.endpoint()));
        chains.put("tinyproxy-wrong-password", List.of(wrongTinyproxyHop));
        chains.put("tinyproxy-no-credentials", List.of(tinyproxy.endpoint().url("http")));
        chains.put("dante-then-tinyproxy-wrong-password", List.of(dante.endpoint().url("socks5"), wrongTinyproxyHop));
        network.startChainsocks(chains);
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (network == null) {
            return;
        }
        try {
            assertThat(network.chainsocks().logText()).as("chainsocks' log").doesNotContain(WRONG_PASSWORD);
            network.stopChainsocksCleanly();
        } finally {
            network.close();
        }
    }

    @Test
    void danteRejectsTheUsernamePassword() {
        long danteBefore = danteWithAuth.connectionCount();
        String outcome = fetchFailsPromptlyThrough("dante-wrong-password");
        assertThat(outcome).contains("hop 1/1 socks5://" + user.name() + ":***@" + danteWithAuth.endpoint() + " ",
                "authentication failed");
        assertThat(danteWithAuth.connectionCount()).as("dante relayed nothing").isEqualTo(danteBefore);
        assertThat(danteWithAuth.process().logLines()).as("dante's log")
                .anyMatch(line -> line.contains(GW_WAN_V4 + ".") && line.contains("authentication failed for user \""
                        + user.name() + "\""));
    }

    /** tinyproxy 1.11 answers a CONNECT with a wrong Basic password with 401 Unauthorized (not 407). */
    @Test
    void tinyproxyAnswers401ToTheWrongBasicPassword() {
        long tunnelsBefore = tinyproxyTunnels();
        String outcome = fetchFailsPromptlyThrough("tinyproxy-wrong-password");
        assertThat(outcome).contains("hop 1/1 " + WRONG_TINYPROXY_HOP_SHOWN + " ", "authentication failed",
                "HTTP 401 Unauthorized");
        assertThat(tinyproxyTunnels()).as("tinyproxy opened no tunnel").isEqualTo(tunnelsBefore);
    }

    /** A hop URI without user info sends no Proxy-Authorization; tinyproxy answers 407. */
    @Test
    void tinyproxyAnswers407WhenTheHopHasNoCredentials() {
        long tunnelsBefore = tinyproxyTunnels();
        String outcome = fetchFailsPromptlyThrough("tinyproxy-no-credentials");
        assertThat(outcome).contains("hop 1/1 http://" + tinyproxy.endpoint() + " ", "authentication failed", "407");
        assertThat(tinyproxyTunnels()).as("tinyproxy opened no tunnel").isEqualTo(tunnelsBefore);
    }

    @Test
    void tinyproxyBehindDanteIsNamedAsTheSecondHop() {
        long danteBefore = dante.connectionCount();
        long tunnelsBefore = tinyproxyTunnels();
        String outcome = fetchFailsPromptlyThrough("dante-then-tinyproxy-wrong-password");
        assertThat(outcome).contains("hop 2/2 " + WRONG_TINYPROXY_HOP_SHOWN + " ", "authentication failed",
                "HTTP 401 Unauthorized");
        List<String> relayed = dante.awaitConnections((int) danteBefore + 1, LOG_WAIT);
        assertThat(relayed.subList((int) danteBefore, relayed.size())).as("hop 1, dante, did connect to tinyproxy")
                .singleElement().asString().contains(GW_WAN_V4 + ".", WAN_V4 + "." + tinyproxy.endpoint().port());
        assertThat(tinyproxyTunnels()).as("tinyproxy opened no tunnel").isEqualTo(tunnelsBefore);
    }

    /**
     * Routes lan through {@code chain}'s listener; a plain curl must fail quickly with the connection closed on it,
     * the target must see no request, and the session's end line must say the dial failed. Returns that outcome.
     */
    private static String fetchFailsPromptlyThrough(String chain) {
        int requestsBefore = network.web().requestLines().size();
        network.route(chain);
        long start = System.nanoTime();
        Command.Result curl = Curl.run(network.lan(), network.pageUrl());
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(curl.succeeded()).as("curl through " + chain + ": " + curl.describe()).isFalse();
        // 7: the reset arrived while curl still polled its non-blocking connect
        assertThat(curl.exitCode()).as("curl: empty reply (52), connection reset (56) or reset during connect (7),"
                + " not a timeout; " + curl.describe()).isIn(7, 52, 56);
        assertThat(took).as("curl gave up after").isLessThan(PROMPTLY);
        String end = network.awaitSessionEnd(chain, 1);
        assertThat(end).as("chainsocks access log").contains("client=" + LAN_V4 + ":",
                "dst=" + WAN_V4 + ":" + PeerNetwork.HTTP_PORT + " ", "outcome=dial failed: chain " + chain + ": ");
        assertThat(network.web().requestLines()).as("target server's request log").hasSize(requestsBefore);
        return end.substring(end.indexOf("outcome="));
    }

    /** tinyproxy logs the CONNECT request line before it checks credentials; a tunnel is "Established ...". */
    private static long tinyproxyTunnels() {
        return tinyproxy.process().countLogLines("Established connection to host");
    }
}
