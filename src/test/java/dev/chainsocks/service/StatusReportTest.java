package dev.chainsocks.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.testsupport.Eventually;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What {@code chainsocks status}, {@code status --json} and {@code connections} print for a real redirector. */
@Timeout(30)
class StatusReportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aLiveSessionIsCountedAndListed() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toEchoServer();
                Socket client = fixture.connect()) {
            exchange(client, "ping");
            String listener = AddressSyntax.format(fixture.listener());
            // The echo can reach the client a moment before the loop has added the bytes up to its counters.
            Eventually.until("the live session's counters at 4 bytes each way", () -> fixture.redirector().sessions()
                    .stream().anyMatch(session -> session.bytesUp() == 4 && session.bytesDown() == 4));

            List<String> text = StatusReport.text(fixture.redirector()).lines().toList();
            assertThat(text.get(0)).matches("chainsocks up \\d+\\.\\ds");
            assertThat(text.subList(1, text.size())).containsExactly(
                    "connections: 1 accepted, 1 active, 1 dialed",
                    "failed: none",
                    "bytes: up 0, down 0 (finished sessions)",
                    "listener " + listener + " netfilter strict",
                    text.get(5),
                    "    direct");
            assertThat(text.get(5)).matches("  chain direct up since \\S+Z, 1 ok, 0 failed, last dial \\d+ms");

            List<String> connections = StatusReport.connections(fixture.redirector()).lines().toList();
            assertThat(connections).hasSize(3);
            assertThat(connections.get(0)).isEqualTo(String.format("%-8s %-28s %-28s %-8s %12s %12s %9s  %s",
                    "SESSION", "CLIENT", "DESTINATION", "STATE", "UP", "DOWN", "AGE", "CHAIN"));
            String clientAddress = "127.0.0.1:" + client.getLocalPort();
            assertThat(connections.get(1).split("\\s+")).satisfies(columns -> {
                assertThat(columns).hasSize(8);
                assertThat(columns[0]).matches("\\d+");
                assertThat(columns[1]).isEqualTo(clientAddress);
                assertThat(columns[2]).isEqualTo(AddressSyntax.format(fixture.echoAddress()));
                assertThat(columns[3]).isEqualTo("relay");
                assertThat(columns[4]).isEqualTo("4");
                assertThat(columns[5]).isEqualTo("4");
                assertThat(columns[6]).matches("\\d+\\.\\ds");
                assertThat(columns[7]).isEqualTo("direct[direct]");
            });
            // Columns line up under the header.
            assertThat(connections.get(1).indexOf(clientAddress)).isEqualTo(connections.get(0).indexOf("CLIENT"));
            assertThat(connections.get(2)).isEqualTo("1 session(s)");

            JsonNode json = JSON.readTree(StatusReport.json(fixture.redirector()));
            assertThat(json.path("uptimeSeconds").isIntegralNumber()).isTrue();
            assertThat(json.path("connections").path("accepted").asLong()).isEqualTo(1);
            assertThat(json.path("connections").path("active").asLong()).isEqualTo(1);
            assertThat(json.path("connections").path("dialed").asLong()).isEqualTo(1);
            assertThat(json.path("connections").path("failed").isObject()).isTrue();
            assertThat(json.path("connections").path("failed").size()).isZero();
            JsonNode only = json.path("listeners").get(0);
            assertThat(only.path("listen").asText()).isEqualTo(listener);
            assertThat(only.path("lookup").asText()).isEqualTo("netfilter");
            assertThat(only.path("policy").asText()).isEqualTo("strict");
            JsonNode chain = only.path("chains").get(0);
            assertThat(chain.path("name").asText()).isEqualTo("direct");
            assertThat(chain.path("state").asText()).isEqualTo("up");
            assertThat(chain.path("up").asBoolean()).isTrue();
            assertThat(chain.path("successes").asLong()).isEqualTo(1);
            assertThat(chain.path("failures").asLong()).isZero();
            assertThat(chain.path("lastDialMillis").isIntegralNumber()).isTrue();
            assertThat(chain.has("lastError")).isFalse();
            assertThat(chain.path("hops").isArray()).isTrue();
            assertThat(chain.path("hops").size()).isZero();
        }
    }

    /** Nothing listens behind the chain, but no connection has tried it: status claims neither up nor down. */
    @Test
    void aChainNoConnectionUsedIsUntried() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toClosedPort()) {
            List<String> text = StatusReport.text(fixture.redirector()).lines().toList();
            assertThat(text).anyMatch(line -> line.matches("  chain direct untried since \\S+Z, 0 ok, 0 failed"))
                    .noneMatch(line -> line.contains(" up since") || line.contains(" down since"));

            JsonNode chain = JSON.readTree(StatusReport.json(fixture.redirector()))
                    .path("listeners").get(0).path("chains").get(0);
            assertThat(chain.path("state").asText()).isEqualTo("untried");
            assertThat(chain.has("up")).as("no up/down before a dial: " + chain).isFalse();
            assertThat(chain.path("successes").asLong()).isZero();
            assertThat(chain.path("failures").asLong()).isZero();
        }
    }

    @Test
    void finishedSessionsAddTheirBytes() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toEchoServer()) {
            try (Socket client = fixture.connect()) {
                exchange(client, "hello, world");
                client.shutdownOutput();
                assertThat(client.getInputStream().read()).isEqualTo(-1);
            }
            fixture.awaitIdle();
            assertThat(StatusReport.text(fixture.redirector()))
                    .contains("connections: 1 accepted, 0 active, 1 dialed\n")
                    .contains("bytes: up 12, down 12 (finished sessions)\n");
            JsonNode json = JSON.readTree(StatusReport.json(fixture.redirector()));
            assertThat(json.path("bytes").path("up").asLong()).isEqualTo(12);
            assertThat(json.path("bytes").path("down").asLong()).isEqualTo(12);
            assertThat(StatusReport.connections(fixture.redirector()).lines().toList()).hasSize(2)
                    .last().isEqualTo("0 session(s)");
        }
    }

    @Test
    void failedDialsAreCountedByReasonAndTheChainIsDown() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toClosedPort()) {
            for (int i = 0; i < 2; i++) {
                try (Socket client = fixture.connect()) {
                    // A failed dial is passed on to the client as a reset (or at least an EOF).
                    assertThat(client.getInputStream().read()).isEqualTo(-1);
                } catch (SocketException reset) {
                    assertThat(reset).hasMessageContaining("reset");
                }
            }
            fixture.awaitIdle();
            List<String> text = StatusReport.text(fixture.redirector()).lines().toList();
            assertThat(text).contains("connections: 2 accepted, 0 active, 0 dialed");
            assertThat(text).contains("failed: dial=2");
            assertThat(text).anyMatch(line -> line.matches("  chain direct down since \\S+Z, 0 ok, 2 failed"));
            assertThat(text).anyMatch(line -> line.startsWith("    last error: "));

            JsonNode json = JSON.readTree(StatusReport.json(fixture.redirector()));
            assertThat(json.path("connections").path("failed").path("dial").asLong()).isEqualTo(2);
            JsonNode chain = json.path("listeners").get(0).path("chains").get(0);
            assertThat(chain.path("state").asText()).isEqualTo("down");
            assertThat(chain.path("up").isBoolean()).isTrue();
            assertThat(chain.path("up").asBoolean()).isFalse();
            assertThat(chain.path("failures").asLong()).isEqualTo(2);
            assertThat(chain.path("lastError").asText()).isNotBlank();
        }
    }

    @Test
    void durationsReadAsSecondsMinutesOrHours() {
        assertThat(StatusReport.human(Duration.ZERO)).isEqualTo("0.0s");
        assertThat(StatusReport.human(Duration.ofMillis(1_500))).isEqualTo("1.5s");
        assertThat(StatusReport.human(Duration.ofMillis(59_900))).isEqualTo("59.9s");
        assertThat(StatusReport.human(Duration.ofSeconds(60))).isEqualTo("1m0s");
        assertThat(StatusReport.human(Duration.ofSeconds(61))).isEqualTo("1m1s");
        assertThat(StatusReport.human(Duration.ofSeconds(3_599))).isEqualTo("59m59s");
        assertThat(StatusReport.human(Duration.ofSeconds(3_600))).isEqualTo("1h0m");
        assertThat(StatusReport.human(Duration.ofHours(49).plusMinutes(5).plusSeconds(59))).isEqualTo("49h5m");
    }

    /** Sends {@code text} and reads the echo, so the session is known to be relaying. */
    static void exchange(Socket client, String text) throws Exception {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        OutputStream out = client.getOutputStream();
        out.write(bytes);
        out.flush();
        InputStream in = client.getInputStream();
        assertThat(new String(in.readNBytes(bytes.length), StandardCharsets.UTF_8)).isEqualTo(text);
    }
}
