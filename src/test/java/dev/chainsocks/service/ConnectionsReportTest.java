package dev.chainsocks.service;

import static dev.chainsocks.service.StatusReportTest.exchange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chainsocks.chain.ChainState;
import dev.chainsocks.redirect.FailureReason;
import dev.chainsocks.redirect.SessionState;
import dev.chainsocks.syntax.AddressSyntax;
import java.net.Socket;
import java.net.SocketException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code connections --json} for a real redirector, and read back as {@code chainsocks top} reads it. */
@Timeout(30)
class ConnectionsReportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aLiveSessionCarriesItsByteCountersAndReadsBackAsTheSameRecords() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toEchoServer();
                Socket client = fixture.connect()) {
            exchange(client, "ping");
            exchange(client, "hello");

            // The echo can reach the client a moment before the loop has added the bytes up to its counters.
            String text = ConnectionsReport.of(fixture.redirector()).toJson();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!(text.contains("\"bytesUp\" : 9") && text.contains("\"bytesDown\" : 9"))
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
                text = ConnectionsReport.of(fixture.redirector()).toJson();
            }
            JsonNode json = JSON.readTree(text);
            JsonNode session = json.path("connections").get(0);
            assertThat(session.path("client").asText()).isEqualTo("127.0.0.1:" + client.getLocalPort());
            assertThat(session.path("destination").asText()).isEqualTo(AddressSyntax.format(fixture.echoAddress()));
            assertThat(session.path("state").asText()).isEqualTo("relay");
            assertThat(session.path("bytesUp").asLong()).isEqualTo(9);
            assertThat(session.path("bytesDown").asLong()).isEqualTo(9);
            assertThat(json.path("chains").get(0).path("state").asText()).isEqualTo("up");
            assertThat(json.path("chains").get(0).has("lastError")).isFalse();

            ConnectionsReport report = ConnectionsReport.parse(text);
            assertThat(report.totals()).isEqualTo(new ConnectionsReport.Totals(1, 1, 1, Map.of(), 0, 0));
            assertThat(report.connections()).hasSize(1);
            ConnectionsReport.Connection connection = report.connections().get(0);
            assertThat(connection.state()).isEqualTo(SessionState.RELAY);
            assertThat(connection.chain()).isEqualTo("direct[direct]");
            assertThat(connection.bytesUp()).isEqualTo(9);
            assertThat(connection.bytesDown()).isEqualTo(9);
            assertThat(report.chains()).singleElement().satisfies(chain -> {
                assertThat(chain.listener()).isEqualTo(AddressSyntax.format(fixture.listener()));
                assertThat(chain.name()).isEqualTo("direct");
                assertThat(chain.state()).isEqualTo(ChainState.UP);
                assertThat(chain.successes()).isEqualTo(1);
                assertThat(chain.lastError()).isNull();
            });
        }
    }

    @Test
    void failuresByReasonAndTheLastErrorReadBack() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toClosedPort()) {
            try (Socket client = fixture.connect()) {
                assertThat(client.getInputStream().read()).isEqualTo(-1);
            } catch (SocketException reset) {
                assertThat(reset).hasMessageContaining("reset");
            }
            fixture.awaitIdle();
            String text = ConnectionsReport.of(fixture.redirector()).toJson();
            assertThat(JSON.readTree(text).path("totals").path("failed").path("dial").asLong()).isEqualTo(1);

            ConnectionsReport report = ConnectionsReport.parse(text);
            assertThat(report.connections()).isEmpty();
            assertThat(report.totals().failed()).containsExactly(Map.entry(FailureReason.DIAL, 1L));
            assertThat(report.totals().failedCount()).isEqualTo(1);
            ConnectionsReport.Chain chain = report.chains().get(0);
            assertThat(chain.state()).isEqualTo(ChainState.DOWN);
            assertThat(chain.failures()).isEqualTo(1);
            assertThat(chain.lastError()).isNotBlank();
        }
    }

    @Test
    void somethingElseIsNotReadAsAReport() {
        assertThatThrownBy(() -> ConnectionsReport.parse("error: unknown command \"connections --json\"\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not a connections report: ");
        assertThatThrownBy(() -> ConnectionsReport.parse("{\"uptimeMillis\": 1}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not a connections report: ");
        String unknownState = "{\"uptimeMillis\": 1, \"totals\": {\"accepted\": 0, \"active\": 0, \"dialed\": 0,"
                + " \"failed\": {}, \"bytesUp\": 0, \"bytesDown\": 0}, \"connections\": [], \"chains\": ["
                + "{\"listener\": \"0.0.0.0:1\", \"name\": \"a\", \"state\": \"sideways\", \"stateAgeMillis\": 0,"
                + " \"successes\": 0, \"failures\": 0}]}";
        assertThatThrownBy(() -> ConnectionsReport.parse(unknownState))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sideways");
    }
}
