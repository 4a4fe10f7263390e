package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ByteStreamClient;
import dev.chainsocks.e2e.ByteStreamServer;
import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bytes through the whole path arrive exactly as sent: a lan client, gw's REDIRECT, chainsocks (started the quick
 * way, {@code run --listen [::]:12345 --via ... --via ...}) and two bundled hops (SOCKS5, then HTTP CONNECT) to a
 * byte-stream server in wan. Contents are checked by SHA-256 at both ends; half-close must let the reply through.
 */
@Tag("e2e")
class StreamIntegrityE2E {

    private static final int STREAM_PORT = 9000;
    private static final int LISTEN_PORT = 12345;
    private static final long MIB = 1L << 20;
    private static final Duration STREAM_TIMEOUT = Duration.ofSeconds(100);

    private static GatewayTopology topology;
    private static ByteStreamServer server;
    private static BundledHop hop1;
    private static BundledHop hop2;
    private static ChainsocksProcess redirector;

    @BeforeAll
    static void startChain() {
        Prerequisites.require("iptables", "ip6tables", "ss", "python3");
        topology = GatewayTopology.create(TestWorkspace.forTest("StreamIntegrityE2E"));
        server = ByteStreamServer.start(topology.wan(), STREAM_PORT);
        String[] allow = {"--allow-from", "198.18.0.0/15", "--allow-from", "fd00::/8"};
        hop1 = BundledHop.start(topology.wan(), "hop1", Endpoint.of(WAN_V4, 1080), Endpoint.of(WAN_V6, 1080), allow);
        hop2 = BundledHop.start(topology.wan(), "hop2", Endpoint.of(WAN_V4, 1081), Endpoint.of(WAN_V6, 1081), allow);
        redirector = ChainsocksProcess.start(topology.gw(), "run", "run", "--listen", "[::]:" + LISTEN_PORT,
                "--via", hop1.uri("socks5"), "--via", hop2.uri("http"));
        hop1.awaitListening();
        hop2.awaitListening();
        redirector.waitForPort("::", LISTEN_PORT);
        topology.redirectLanTcp(LISTEN_PORT);
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    @Test
    @Timeout(180)
    void quarterGigabyteEachWayArrivesIntact() {
        long bytes = 256 * MIB;
        int hop1Before = hop1.sessionCount();
        int hop2Before = hop2.sessionCount();
        int endsBefore = endLines().size();

        ByteStreamClient.Result result = ByteStreamClient.in(topology.lan(), Endpoint.of(WAN_V4, STREAM_PORT))
                .timeout(STREAM_TIMEOUT).seed(256).echo(bytes);

        assertThat(result.ok()).as(result.raw()).isTrue();
        assertThat(result.sentBytes()).isEqualTo(bytes);
        assertThat(result.receivedBytes()).isEqualTo(bytes);
        String end = lastEndAfter(endsBefore);
        assertThat(end).contains(" dst=" + WAN_V4 + ":" + STREAM_PORT + " ").endsWith(" outcome=ok");
        assertThat(AccessLogLines.bytes(end, "up")).as(end).isGreaterThanOrEqualTo(bytes);
        assertThat(AccessLogLines.bytes(end, "down")).as(end).isGreaterThanOrEqualTo(bytes);
        assertThat(hop1.awaitOneNewSession(hop1Before)).contains(" dst=" + hop2.v4() + " ");
        assertThat(hop2.awaitOneNewSession(hop2Before)).contains(" dst=" + WAN_V4 + ":" + STREAM_PORT + " ")
                .endsWith("via=http CONNECT");
    }

    /** The client sends, then shuts down its sending side; the server's reply must still arrive in full. */
    @Test
    @Timeout(120)
    void replyArrivesInFullAfterTheClientHalfClosesOverIpv6() {
        long sent = 8 * MIB;
        long reply = 64 * MIB;
        int endsBefore = endLines().size();

        ByteStreamClient.Result result = ByteStreamClient.in(topology.lan(), Endpoint.of(WAN_V6, STREAM_PORT))
                .timeout(STREAM_TIMEOUT).seed(7).replyAfterHalfClose(sent, reply);

        assertThat(result.ok()).as(result.raw()).isTrue();
        assertThat(result.serverReceivedBytes()).as("server saw the client's EOF after all its bytes").isEqualTo(sent);
        assertThat(result.receivedBytes()).isEqualTo(result.expectedReceivedBytes());
        String end = lastEndAfter(endsBefore);
        assertThat(end).contains(" dst=[" + WAN_V6 + "]:" + STREAM_PORT + " ").endsWith(" outcome=ok");
        assertThat(AccessLogLines.bytes(end, "down")).as(end).isGreaterThanOrEqualTo(reply);
    }

    /** Several streams at once on the same listener, each with its own data, none mixed up with another. */
    @Test
    @Timeout(150)
    void concurrentStreamsStaySeparate() {
        int streams = 4;
        long bytes = 24 * MIB;
        List<CompletableFuture<ByteStreamClient.Result>> running = new ArrayList<>();
        IntStream.range(0, streams).forEach(i -> running.add(CompletableFuture.supplyAsync(() ->
                ByteStreamClient.in(topology.lan(), Endpoint.of(i % 2 == 0 ? WAN_V4 : WAN_V6, STREAM_PORT))
                        .timeout(STREAM_TIMEOUT).seed(1000 + i).echo(bytes))));
        for (CompletableFuture<ByteStreamClient.Result> stream : running) {
            ByteStreamClient.Result result = stream.join();
            assertThat(result.ok()).as(result.raw()).isTrue();
            assertThat(result.receivedBytes()).isEqualTo(bytes);
        }
    }

    private static List<String> endLines() {
        return redirector.logLines().stream().filter(AccessLogLines::isEnd).map(AccessLogLines::normalized).toList();
    }

    private static String lastEndAfter(int before) {
        redirector.awaitLogLines(AccessLogLines::isEnd, before + 1, BundledHop.LOG_WAIT);
        List<String> ends = endLines();
        return ends.get(ends.size() - 1);
    }
}
