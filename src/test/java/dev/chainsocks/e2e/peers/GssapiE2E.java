package dev.chainsocks.e2e.peers;

import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.peers.PeerNetwork.LOG_WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.Kdc;
import dev.chainsocks.e2e.Prerequisites;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * SOCKS5 GSS-API (RFC 1961, Kerberos V5) with a real MIT KDC: a throwaway realm in {@code wan} and the bundled
 * server with {@code --gssapi-keytab} there, as the hop of a chainsocks redirector in {@code gw} that authenticates
 * as {@code alice} from a keytab, with its tickets from that KDC. A server holding an outdated key and a client with
 * no credentials fail at once, the access log naming the hop and why.
 *
 * <p>No third-party peer here: Debian's Dante is built without GSS-API ({@code socksmethod: gssapi} is refused at
 * start), and Debian's curl answers a server's GSS-API selection with "per-message authentication is not
 * supported".
 */
@Tag("e2e")
class GssapiE2E {

    private static final int SERVER_PORT = 1090;
    private static final int STALE_SERVER_PORT = 1091;

    private static PeerNetwork network;
    private static Kdc kdc;
    private static ChainsocksProcess server;
    private static ChainsocksProcess staleServer;
    private static String alice;

    @BeforeAll
    static void startRealmPeersAndChainsocks() {
        Prerequisites.require("iptables", "ss", "curl", "python3", "krb5kdc", "kdb5_util", "kadmin.local");
        network = PeerNetwork.create("GssapiE2E", 1 << 16);
        kdc = network.keep(Kdc.start(network.wan(), Endpoint.of(WAN_V4, 8800)));
        alice = kdc.principal("alice");
        kdc.addPrincipal("alice");
        kdc.addPrincipal("rcmd/server.test");
        Path aliceKeytab = kdc.exportKeytab("alice", "alice.keytab");
        Path staleKeytab = kdc.exportKeytab("rcmd/server.test", "server-stale.keytab");
        Path serverKeytab = kdc.exportKeytab("rcmd/server.test", "server.keytab");
        server = network.keep(bundledServer(SERVER_PORT, serverKeytab));
        staleServer = network.keep(bundledServer(STALE_SERVER_PORT, staleKeytab));

        String asAlice = "&principal=" + alice + "&keytab=" + aliceKeytab;
        Map<String, List<String>> chains = new LinkedHashMap<>();
        chains.put("bundled", List.of("socks5+gssapi://" + WAN_V4 + ":" + SERVER_PORT + "?service=rcmd/server.test"
                + asAlice));
        chains.put("stale-key", List.of("socks5+gssapi://" + WAN_V4 + ":" + STALE_SERVER_PORT
                + "?service=rcmd/server.test" + asAlice));
        chains.put("no-credentials", List.of("socks5+gssapi://" + WAN_V4 + ":" + SERVER_PORT
                + "?service=rcmd/server.test&ccache=" + kdc.environment().stream()
                .filter(e -> e.startsWith("KRB5CCNAME=FILE:")).findFirst().orElseThrow()
                .substring("KRB5CCNAME=FILE:".length())));
        network.startChainsocks(chains, kdc.jvmOptions());
    }

    private static ChainsocksProcess bundledServer(int port, Path keytab) {
        ChainsocksProcess process = ChainsocksProcess.startWithJvmOptions(null, network.wan(),
                "socks-server-" + port, kdc.jvmOptions(), "socks-server", "--listen", WAN_V4 + ":" + port,
                "--gssapi-keytab", keytab.toString(), "--gssapi-principal", kdc.principal("rcmd/server.test"));
        process.waitForPort(WAN_V4, port);
        return process;
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (network == null) {
            return;
        }
        try {
            network.stopChainsocksCleanly();
        } finally {
            network.close();
        }
    }

    @Test
    void throughTheBundledServerWhichLogsThePrincipal() {
        fetchThrough("bundled");
        assertThat(server.awaitLogLines(line -> line.contains(" start ") && line.contains("user=" + alice), 1,
                LOG_WAIT)).as("bundled server's start line names the Kerberos principal").isNotEmpty();
    }

    @Test
    void aServerWithAnOutdatedKeyRefusesAndTheHopIsNamed() {
        String outcome = fetchFails("stale-key");
        assertThat(outcome).contains("hop 1/1 socks5+gssapi://" + WAN_V4 + ":" + STALE_SERVER_PORT,
                "authentication failed", "aborted GSS-API authentication");
        assertThat(staleServer.awaitLogLines(line -> line.contains("GSS-API authentication failed"), 1, LOG_WAIT))
                .as("the outdated server says why").hasSize(1);
    }

    @Test
    void aClientWithoutCredentialsFailsSayingSo() {
        String outcome = fetchFails("no-credentials");
        assertThat(outcome).contains("hop 1/1 socks5+gssapi://" + WAN_V4 + ":" + SERVER_PORT,
                "authentication failed", "Kerberos login");
    }

    private static void fetchThrough(String chain) {
        int requestsBefore = network.web().requestLines().size();
        network.route(chain);
        assertThat(network.fetchPage()).isEqualTo(network.web().page());
        assertThat(network.awaitSessionEnd(chain, 1)).as("chainsocks access log")
                .contains("client=" + LAN_V4 + ":", "outcome=ok");
        assertThat(network.awaitNewRequests(requestsBefore, 1)).as("target server's request log").hasSize(1);
    }

    private static String fetchFails(String chain) {
        int requestsBefore = network.web().requestLines().size();
        network.route(chain);
        Command.Result curl = Curl.run(network.lan(), network.pageUrl());
        assertThat(curl.succeeded()).as("curl through " + chain + ": " + curl.describe()).isFalse();
        String end = network.awaitSessionEnd(chain, 1);
        assertThat(end).contains("outcome=dial failed: chain " + chain + ": ");
        assertThat(network.web().requestLines()).as("target server's request log").hasSize(requestsBefore);
        return end.substring(end.indexOf("outcome="));
    }
}
