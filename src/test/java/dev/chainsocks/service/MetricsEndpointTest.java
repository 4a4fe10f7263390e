package dev.chainsocks.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.syntax.AddressSyntax;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Prometheus text that {@code /metrics} serves, and the endpoint itself. */
@Timeout(30)
class MetricsEndpointTest {

    /** A sample line of text format 0.0.4 as chainsocks writes it: a name, optional labels, an integer. */
    private static final String SAMPLE = "[a-z_]+(\\{[a-z]+=\"[^\"\\\\\\n]*\"(,[a-z]+=\"[^\"\\\\\\n]*\")*})? -?\\d+";

    @Test
    void freshServiceRendersEveryFamilyWithHelpTypeAndZeroes() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toEchoServer()) {
            String text = MetricsEndpoint.render(fixture.redirector());
            String listener = AddressSyntax.format(fixture.listener());
            assertThat(text).endsWith("\n");
            assertThat(text.lines().map(MetricsEndpointTest::withoutUptime).toList()).containsExactly(
                    "# HELP chainsocks_uptime_seconds Seconds since the service started.",
                    "# TYPE chainsocks_uptime_seconds gauge",
                    "chainsocks_uptime_seconds N",
                    "# HELP chainsocks_connections_accepted_total Connections accepted.",
                    "# TYPE chainsocks_connections_accepted_total counter",
                    "chainsocks_connections_accepted_total 0",
                    "# HELP chainsocks_connections_active Connections open now.",
                    "# TYPE chainsocks_connections_active gauge",
                    "chainsocks_connections_active 0",
                    "# HELP chainsocks_connections_dialed_total Connections whose chain was dialed.",
                    "# TYPE chainsocks_connections_dialed_total counter",
                    "chainsocks_connections_dialed_total 0",
                    "# HELP chainsocks_connections_failed_total Connections that ended before a relay, by reason.",
                    "# TYPE chainsocks_connections_failed_total counter",
                    "chainsocks_connections_failed_total{reason=\"lookup\"} 0",
                    "chainsocks_connections_failed_total{reason=\"loop\"} 0",
                    "chainsocks_connections_failed_total{reason=\"dial\"} 0",
                    "chainsocks_connections_failed_total{reason=\"destination\"} 0",
                    "chainsocks_connections_failed_total{reason=\"local\"} 0",
                    "# HELP chainsocks_bytes_total Bytes relayed by finished sessions, by direction.",
                    "# TYPE chainsocks_bytes_total counter",
                    "chainsocks_bytes_total{direction=\"up\"} 0",
                    "chainsocks_bytes_total{direction=\"down\"} 0",
                    "# HELP chainsocks_chain_up Whether a chain's last dial succeeded (1) or failed (0).",
                    "# TYPE chainsocks_chain_up gauge",
                    "chainsocks_chain_up{listener=\"" + listener + "\",chain=\"direct\"} 1");
        }
    }

    @Test
    void countersFollowTraffic() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toEchoServer()) {
            try (Socket client = fixture.connect()) {
                StatusReportTest.exchange(client, "0123456789");
                assertThat(samples(MetricsEndpoint.render(fixture.redirector())))
                        .containsEntry("chainsocks_connections_accepted_total", 1L)
                        .containsEntry("chainsocks_connections_active", 1L)
                        .containsEntry("chainsocks_bytes_total{direction=\"up\"}", 0L);
                client.shutdownOutput();
                assertThat(client.getInputStream().read()).isEqualTo(-1);
            }
            fixture.awaitIdle();
            String text = MetricsEndpoint.render(fixture.redirector());
            assertThat(text.lines().filter(line -> !line.startsWith("#"))).allMatch(line -> line.matches(SAMPLE));
            assertThat(samples(text))
                    .containsEntry("chainsocks_connections_accepted_total", 1L)
                    .containsEntry("chainsocks_connections_active", 0L)
                    .containsEntry("chainsocks_connections_dialed_total", 1L)
                    .containsEntry("chainsocks_bytes_total{direction=\"up\"}", 10L)
                    .containsEntry("chainsocks_bytes_total{direction=\"down\"}", 10L);
        }
    }

    @Test
    void failuresGetAReasonLabelAndTheChainGoesToZero() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toClosedPort()) {
            try (Socket client = fixture.connect()) {
                client.getInputStream().read();
            } catch (SocketException reset) {
                // the failed dial is passed on as a reset
            }
            fixture.awaitIdle();
            String text = MetricsEndpoint.render(fixture.redirector());
            assertThat(text.lines().filter(line -> !line.startsWith("#"))).allMatch(line -> line.matches(SAMPLE));
            assertThat(samples(text))
                    .containsEntry("chainsocks_connections_failed_total{reason=\"dial\"}", 1L)
                    .containsEntry("chainsocks_chain_up{listener=\"" + AddressSyntax.format(fixture.listener())
                            + "\",chain=\"direct\"}", 0L);
        }
    }

    @Test
    void servesTheRenderedTextOverHttp() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toEchoServer();
                MetricsEndpoint endpoint = MetricsEndpoint.start(
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), fixture.redirector())) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            InetSocketAddress address = endpoint.address();
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://" + AddressSyntax.format(address) + "/metrics")).timeout(Duration.ofSeconds(5))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type"))
                    .contains("text/plain; version=0.0.4; charset=utf-8");
            assertThat(response.body().lines().map(MetricsEndpointTest::withoutUptime))
                    .containsExactlyElementsOf(MetricsEndpoint.render(fixture.redirector()).lines()
                            .map(MetricsEndpointTest::withoutUptime).toList());

            HttpResponse<String> elsewhere = http.send(HttpRequest.newBuilder(
                    URI.create("http://" + AddressSyntax.format(address) + "/")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(elsewhere.statusCode()).isEqualTo(404);
        }
    }

    /** The uptime sample with its value replaced by N: it ticks while a test runs. */
    private static String withoutUptime(String line) {
        return line.replaceFirst("^chainsocks_uptime_seconds \\d+$", "chainsocks_uptime_seconds N");
    }

    /** Sample lines as name-with-labels to value. */
    private static Map<String, Long> samples(String text) {
        Map<String, Long> samples = new LinkedHashMap<>();
        List<String> lines = text.lines().filter(line -> !line.startsWith("#")).toList();
        for (String line : lines) {
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Long.parseLong(line.substring(space + 1)));
        }
        return samples;
    }
}
