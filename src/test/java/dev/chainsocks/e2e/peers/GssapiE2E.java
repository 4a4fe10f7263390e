package dev.chainsocks.e2e.peers;

import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.peers.PeerNetwork.LOG_WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ByteStreamClient;
import dev.chainsocks.e2e.ByteStreamServer;
import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.Kdc;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Prerequisites;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * as {@code alice} from a keytab, with its tickets from that KDC. A server holding an outdated key, a client with no
 * credentials and a client whose ticket expired fail at once, the access log naming the hop and why.
 *
 * <p>Per-message protection (RFC 1961 section 5): hops asking for integrity and confidentiality carry a byte stream
 * both ways with half-closes intact, the bundled server logs the level it agreed, and a capture on the gateway's
 * WAN side shows the page's text under integrity and never under confidentiality. A server whose minimum is
 * confidentiality raises a hop that asked for none.
 *
 * <p>No third-party peer here: Debian's Dante is built without GSS-API ({@code socksmethod: gssapi} is refused at
 * start), and Debian's curl answers a server's GSS-API selection with "per-message authentication is not
 * supported".
 */
@Tag("e2e")
class GssapiE2E {

    private static final int SERVER_PORT = 1090;
    private static final int STALE_SERVER_PORT = 1091;
    private static final int CONFIDENTIAL_SERVER_PORT = 1092;
    private static final int BYTE_STREAM_PORT = 9000;
    private static final Duration SHORT_TICKET = Duration.ofSeconds(10);

    private static PeerNetwork network;
    private static Kdc kdc;
    private static ChainsocksProcess server;
    private static ChainsocksProcess staleServer;
    private static ChainsocksProcess confidentialServer;
    private static ByteStreamServer byteStream;
    private static String alice;
    private static Path expiringCache;

    @BeforeAll
    static void startRealmPeersAndChainsocks() {
        Prerequisites.require("iptables", "ss", "curl", "python3", "krb5kdc", "kdb5_util", "kadmin.local", "kinit",
                "klist", "tcpdump");
        network = PeerNetwork.create("GssapiE2E", 1 << 16);
        byteStream = network.keep(ByteStreamServer.start(network.wan(), BYTE_STREAM_PORT));
        kdc = network.keep(Kdc.start(network.wan(), Endpoint.of(WAN_V4, 8800)));
        alice = kdc.principal("alice");
        kdc.addPrincipal("alice");
        kdc.addPrincipal("rcmd/server.test");
        Path aliceKeytab = kdc.exportKeytab("alice", "alice.keytab");
        Path staleKeytab = kdc.exportKeytab("rcmd/server.test", "server-stale.keytab");
        Path serverKeytab = kdc.exportKeytab("rcmd/server.test", "server.keytab");
        server = network.keep(bundledServer(SERVER_PORT, serverKeytab));
        staleServer = network.keep(bundledServer(STALE_SERVER_PORT, staleKeytab));
        confidentialServer = network.keep(bundledServer(CONFIDENTIAL_SERVER_PORT, serverKeytab,
                "--gssapi-protection", "confidentiality"));
        expiringCache = kdc.kinit(alice, aliceKeytab, SHORT_TICKET, "alice-short.ccache");

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
        chains.put("integrity", List.of("socks5+gssapi://" + WAN_V4 + ":" + SERVER_PORT
                + "?service=rcmd/server.test&protection=integrity" + asAlice));
        chains.put("confidentiality", List.of("socks5+gssapi://" + WAN_V4 + ":" + CONFIDENTIAL_SERVER_PORT
                + "?service=rcmd/server.test&protection=confidentiality" + asAlice));
        chains.put("raised", List.of("socks5+gssapi://" + WAN_V4 + ":" + CONFIDENTIAL_SERVER_PORT
                + "?service=rcmd/server.test" + asAlice));
        chains.put("expired-ticket", List.of("socks5+gssapi://" + WAN_V4 + ":" + SERVER_PORT
                + "?service=rcmd/server.test&ccache=" + expiringCache));
        network.startChainsocks(chains, kdc.jvmOptions());
    }

    private static ChainsocksProcess bundledServer(int port, Path keytab, String... more) {
        List<String> arguments = new ArrayList<>(List.of("socks-server", "--listen", WAN_V4 + ":" + port,
                "--gssapi-keytab", keytab.toString(), "--gssapi-principal", kdc.principal("rcmd/server.test")));
        arguments.addAll(List.of(more));
        ChainsocksProcess process = ChainsocksProcess.startWithJvmOptions(null, network.wan(),
                "socks-server-" + port, kdc.jvmOptions(), arguments.toArray(String[]::new));
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
        long before = starts(server);
        fetchThrough("bundled");
        String start = awaitNewStart(server, before);
        assertThat(start).as("bundled server's start line names the Kerberos principal").contains("user=" + alice);
        assertThat(start).as("no per-message protection agreed").doesNotContain("protection=");
    }

    @Test
    void integrityCarriesAStreamBothWaysWithHalfClosesAndTheServerLogsTheLevel() {
        long before = starts(server);
        int ends = sessionEnds("integrity");
        network.route("integrity");
        ByteStreamClient.Result result = ByteStreamClient.in(network.lan(), Endpoint.of(WAN_V4, BYTE_STREAM_PORT))
                .timeout(Duration.ofMinutes(1)).replyAfterHalfClose(1 << 20, 3 << 20);
        assertThat(result.ok()).as(result + "\n" + result.raw()).isTrue();
        assertThat(upBytes(network.awaitSessionEnd("integrity", ends + 1))).as("client bytes relayed")
                .isGreaterThanOrEqualTo(1 << 20);
        assertThat(awaitNewStart(server, before)).contains("user=" + alice, "protection=gssapi-integrity");
    }

    @Test
    void confidentialityCarriesAStreamAndTheWireNeverShowsThePage() throws Exception {
        long before = starts(confidentialServer);
        int ends = sessionEnds("confidentiality");
        byte[] marker = HttpFileServer.PAGE_MARKER.getBytes(StandardCharsets.US_ASCII);
        Path clear;
        Path hidden;
        try (Capture integrity = Capture.start("integrity", SERVER_PORT);
                Capture confidentiality = Capture.start("confidentiality", CONFIDENTIAL_SERVER_PORT)) {
            network.route("integrity");
            assertThat(network.fetchPage()).isEqualTo(network.web().page());
            network.route("confidentiality");
            assertThat(network.fetchPage()).isEqualTo(network.web().page());
            ByteStreamClient.Result result = ByteStreamClient.in(network.lan(),
                    Endpoint.of(WAN_V4, BYTE_STREAM_PORT)).timeout(Duration.ofMinutes(1))
                    .replyAfterHalfClose(3 << 20, 1 << 20);
            assertThat(result.ok()).as(result + "\n" + result.raw()).isTrue();
            clear = integrity.stopOnceItHolds(marker);
            hidden = confidentiality.stopOnceItHolds(4 << 20);
        }
        assertThat(upBytes(network.awaitSessionEnd("confidentiality", ends + 2))).as("client bytes relayed")
                .isGreaterThanOrEqualTo(3 << 20);
        assertThat(awaitNewStart(confidentialServer, before)).contains("user=" + alice,
                "protection=gssapi-confidentiality");
        assertThat(contains(Files.readAllBytes(clear), marker))
                .as("the capture sees the page's text where the hop only has integrity").isTrue();
        byte[] captured = Files.readAllBytes(hidden);
        assertThat(captured.length).as("the confidential capture holds the transfer").isGreaterThan(4 << 20);
        assertThat(contains(captured, marker)).as("no page text on the wire under confidentiality").isFalse();
        assertThat(contains(captured, "GET /index.html".getBytes(StandardCharsets.US_ASCII)))
                .as("no request line on the wire under confidentiality").isFalse();
    }

    @Test
    void aServerWhoseMinimumIsConfidentialityRaisesAHopThatAskedForNone() {
        long before = starts(confidentialServer);
        network.route("raised");
        assertThat(network.fetchPage()).isEqualTo(network.web().page());
        assertThat(network.awaitSessionEnd("raised", 1)).contains("outcome=ok");
        assertThat(awaitNewStart(confidentialServer, before)).contains("protection=gssapi-confidentiality");
    }

    @Test
    void anExpiredTicketInTheCredentialCacheFailsNamingTheHop() {
        long deadline = System.nanoTime() + SHORT_TICKET.plusSeconds(30).toNanos();
        while (kdc.holdsCurrentTickets(expiringCache)) {
            assertThat(System.nanoTime()).as("the " + SHORT_TICKET + " ticket expires").isLessThan(deadline);
        }
        String outcome = fetchFails("expired-ticket");
        assertThat(outcome).contains("hop 1/1 socks5+gssapi://" + WAN_V4 + ":" + SERVER_PORT,
                "authentication failed", "Kerberos login", "the ticket-granting ticket of " + alice
                        + " in credential cache " + expiringCache + " expired at ", "renew it (kinit, k5start)");
    }

    /** End lines of {@code chain}'s sessions so far, each with outcome=ok (checked as they are counted). */
    private static int sessionEnds(String chain) {
        List<String> ends = network.chainsocks().logLines().stream()
                .filter(line -> line.contains(" end ") && line.contains(" via=" + chain + "[")).toList();
        assertThat(ends).allMatch(line -> line.contains("outcome=ok"));
        return ends.size();
    }

    /** The up= byte count of an end line, which must say outcome=ok. */
    private static long upBytes(String end) {
        assertThat(end).contains("outcome=ok");
        java.util.regex.Matcher up = java.util.regex.Pattern.compile(" up=(\\d+)B ").matcher(end);
        assertThat(up.find()).as(end).isTrue();
        return Long.parseLong(up.group(1));
    }

    private static long starts(ChainsocksProcess process) {
        return process.logLines().stream().filter(line -> line.contains(" start ")).count();
    }

    /** The start line of the server's next session after the {@code before} it had. */
    private static String awaitNewStart(ChainsocksProcess process, long before) {
        return process.awaitLogLines(line -> line.contains(" start "), (int) before + 1, LOG_WAIT).get((int) before);
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** tcpdump on the gateway's WAN side for one server port, whole packets, written as they come. */
    private static final class Capture implements AutoCloseable {
        private final ManagedProcess process;
        private final Path file;

        private Capture(ManagedProcess process, Path file) {
            this.process = process;
            this.file = file;
        }

        static Capture start(String name, int port) {
            Path file = network.topology().workspace().newDirectory("capture-" + name).resolve("wan.pcap");
            // A 16 MiB kernel buffer (-B, in KiB): the transfers are a few MiB, and a packet the kernel drops for
            // want of room would leave the capture short of what was sent.
            ManagedProcess process = network.topology().gw().spawn("tcpdump-" + name, "tcpdump", "-i",
                    GatewayTopology.GW_WAN_IF, "-n", "--immediate-mode", "-U", "-B", "16384", "-s", "0", "-w",
                    file.toString(), "tcp port " + port);
            process.awaitLogLine("listening on " + GatewayTopology.GW_WAN_IF, LOG_WAIT);
            return new Capture(process, file);
        }

        /** Once the capture holds {@code bytes} (it writes each packet as it comes), stops it; the file. */
        Path stopOnceItHolds(byte[] bytes) throws IOException {
            return stopOnce(() -> contains(Files.readAllBytes(file), bytes), "the capture holds the page text");
        }

        /** Once the capture has reached {@code size} bytes, stops it; the file. */
        Path stopOnceItHolds(long size) throws IOException {
            return stopOnce(() -> Files.size(file) >= size, "the capture reaches " + size + " bytes");
        }

        private Path stopOnce(IoCondition condition, String what) throws IOException {
            long deadline = System.nanoTime() + LOG_WAIT.toNanos();
            while (!(Files.exists(file) && condition.holds())) {
                assertThat(System.nanoTime()).as(what + "; " + process.tail()).isLessThan(deadline);
                // tcpdump writes the file as packets come; checking it without a pause would take the CPU
                // tcpdump needs to keep up.
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting: " + what, e);
                }
            }
            process.stop();
            return file;
        }

        private interface IoCondition {
            boolean holds() throws IOException;
        }

        @Override
        public void close() {
            process.stop();
        }
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
