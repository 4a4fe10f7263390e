package dev.chainsocks.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.config.ConfigLoader;
import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

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
                    "chainsocks_connections_failed_total{reason=\"unmapped\"} 0",
                    "# HELP chainsocks_bytes_total Bytes relayed by finished sessions, by direction.",
                    "# TYPE chainsocks_bytes_total counter",
                    "chainsocks_bytes_total{direction=\"up\"} 0",
                    "chainsocks_bytes_total{direction=\"down\"} 0",
                    "# HELP chainsocks_chain_up Whether a chain's last dial succeeded (1) or failed (0); no sample"
                            + " until the chain is first dialed.",
                    "# TYPE chainsocks_chain_up gauge",
                    "# HELP chainsocks_chain_state A chain's state: 1 for the one it is in (untried until it is first"
                            + " dialed, then up or down), 0 for the others.",
                    "# TYPE chainsocks_chain_state gauge",
                    "chainsocks_chain_state{listener=\"" + listener + "\",chain=\"direct\",state=\"untried\"} 1",
                    "chainsocks_chain_state{listener=\"" + listener + "\",chain=\"direct\",state=\"up\"} 0",
                    "chainsocks_chain_state{listener=\"" + listener + "\",chain=\"direct\",state=\"down\"} 0");
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
            String chain = "{listener=\"" + AddressSyntax.format(fixture.listener()) + "\",chain=\"direct\"";
            assertThat(samples(text)).containsEntry("chainsocks_chain_up" + chain + "}", 1L)
                    .containsEntry("chainsocks_chain_state" + chain + ",state=\"untried\"}", 0L)
                    .containsEntry("chainsocks_chain_state" + chain + ",state=\"up\"}", 1L)
                    .containsEntry("chainsocks_chain_state" + chain + ",state=\"down\"}", 0L);
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
                            + "\",chain=\"direct\"}", 0L)
                    .containsEntry("chainsocks_chain_state{listener=\"" + AddressSyntax.format(fixture.listener())
                            + "\",chain=\"direct\",state=\"down\"}", 1L);
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

    /**
     * {@code curl -I}: HEAD gets GET's status and headers, its Content-Length included, and not one byte of body;
     * the JDK server logs nothing about it (it warns when a length is passed for HEAD). Other methods get 405.
     */
    @Test
    void headIsAnsweredWithHeadersOnlyAndNothingLogged() throws Exception {
        java.util.logging.Logger jdkLog = java.util.logging.Logger.getLogger("com.sun.net.httpserver");
        List<LogRecord> logged = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jdkLog.addHandler(capture);
        try (LoopbackRedirector fixture = LoopbackRedirector.toEchoServer();
                MetricsEndpoint endpoint = MetricsEndpoint.start(
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), fixture.redirector())) {
            String get = rawRequest(endpoint.address(), "GET");
            String head = rawRequest(endpoint.address(), "HEAD");
            // The server logs before it answers, so whatever it had to say about HEAD is here already.
            assertThat(logged).filteredOn(record -> record.getLevel().intValue() >= Level.WARNING.intValue())
                    .extracting(LogRecord::getMessage).isEmpty();

            String getHeaders = get.substring(0, get.indexOf("\r\n\r\n") + 4);
            String getBody = get.substring(getHeaders.length());
            assertThat(getBody).startsWith("# HELP chainsocks_uptime_seconds ");
            assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\n");
            assertThat(head.indexOf("\r\n\r\n")).as("no body after the headers").isEqualTo(head.length() - 4);
            assertThat(header(head, "content-type")).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
            assertThat(header(head, "content-length")).isEqualTo(header(getHeaders, "content-length"))
                    .isEqualTo(Integer.toString(getBody.getBytes(StandardCharsets.UTF_8).length));

            String post = rawRequest(endpoint.address(), "POST");
            assertThat(post).startsWith("HTTP/1.1 405 ");
            assertThat(header(post, "allow")).isEqualTo("GET, HEAD");
        } finally {
            jdkLog.removeHandler(capture);
        }
    }

    /**
     * A reload that moves {@code [metrics]} to another port and puts a listener on the old one: the port is
     * chainsocks' own, so the reload succeeds, the listener is bound there and metrics answer on the new port.
     */
    @Test
    void reloadMovesMetricsAndGivesItsOldPortToAListener(@TempDir Path dir) throws Exception {
        int listenerPort = freeLoopbackPort();
        int oldMetrics = freeLoopbackPort();
        int newMetrics = freeLoopbackPort();
        AtomicReference<String> file = new AtomicReference<>(config(oldMetrics, listenerPort));
        ChainsocksService.ConfigReader reader = () -> ConfigLoader.parse(file.get(), dir.resolve("reload.toml"));
        try (ChainsocksService service = ChainsocksService.start(reader.read(), reader, dir.resolve("control"))) {
            assertThat(getMetrics(oldMetrics).statusCode()).isEqualTo(200);

            file.set(config(newMetrics, listenerPort, oldMetrics));
            assertThat(service.reload()).startsWith("reloaded: 2 listener(s), ").doesNotContain("warning", "error");

            assertThat(service.redirector().boundAddresses()).containsExactly(loopback(listenerPort),
                    loopback(oldMetrics));
            HttpResponse<String> moved = getMetrics(newMetrics);
            assertThat(moved.statusCode()).isEqualTo(200);
            assertThat(moved.body()).contains("chainsocks_chain_state{listener=\"127.0.0.1:" + oldMetrics + "\"");
        }
    }

    /**
     * The same move, but another listener of the new configuration cannot be bound (another process holds its
     * port): the reload is rejected, the listeners are as before, and metrics answer on their old port again.
     */
    @Test
    void aRejectedReloadPutsTheReleasedMetricsEndpointBack(@TempDir Path dir) throws Exception {
        int listenerPort = freeLoopbackPort();
        int oldMetrics = freeLoopbackPort();
        int newMetrics = freeLoopbackPort();
        try (ServerSocket otherProcess = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            AtomicReference<String> file = new AtomicReference<>(config(oldMetrics, listenerPort));
            ChainsocksService.ConfigReader reader = () -> ConfigLoader.parse(file.get(), dir.resolve("reload.toml"));
            try (ChainsocksService service = ChainsocksService.start(reader.read(), reader,
                    dir.resolve("control"))) {
                file.set(config(newMetrics, listenerPort, oldMetrics, otherProcess.getLocalPort()));
                assertThat(service.reload()).isEqualTo("error: reload rejected, the running configuration stays:"
                        + " cannot listen on 127.0.0.1:" + otherProcess.getLocalPort()
                        + ": Address already in use (is another process using that port?)\n");

                assertThat(service.redirector().boundAddresses()).containsExactly(loopback(listenerPort));
                assertThat(getMetrics(oldMetrics).statusCode()).isEqualTo(200);
                assertThatThrownBy(() -> getMetrics(newMetrics)).isInstanceOf(ConnectException.class);
            }
        }
    }

    /** A configuration with metrics on {@code metricsPort} and one direct listener per port, all on loopback. */
    private static String config(int metricsPort, int... listenerPorts) {
        StringBuilder toml = new StringBuilder("[metrics]\nlisten = \"127.0.0.1:" + metricsPort + "\"\n\n");
        for (int port : listenerPorts) {
            toml.append("[[listener]]\nlisten = \"127.0.0.1:").append(port).append("\"\nchains = [\"direct\"]\n\n");
        }
        return toml.append("[chain.direct]\nhops = []\n").toString();
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    private static HttpResponse<String> getMetrics(int port) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** One request on its own connection, read to the end (the server closes after answering). */
    private static String rawRequest(InetSocketAddress address, String method) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(address, 5_000);
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write((method + " /metrics HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The value of a response header, by its name in any case. */
    private static String header(String response, String name) {
        return response.lines().skip(1).takeWhile(line -> !line.isEmpty())
                .filter(line -> line.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                .map(line -> line.substring(name.length() + 1).strip())
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " header in\n" + response));
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
