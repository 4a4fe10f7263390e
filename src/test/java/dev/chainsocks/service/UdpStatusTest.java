package dev.chainsocks.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chainsocks.udp.UdpListenerStatus;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How UDP listeners' counters read in {@code status}, {@code status --json} and {@code /metrics}; the counting itself
 * is proved against real flows in {@code UdpTproxyE2E}.
 */
class UdpStatusTest {

    private static final UdpListenerStatus V6 = new UdpListenerStatus(new InetSocketAddress("::", 12500), 3, 1024,
            10, 2, 1, 40, 38, 5);
    private static final UdpListenerStatus V4 = new UdpListenerStatus(new InetSocketAddress("127.0.0.1", 5300), 0, 8,
            0, 0, 0, 0, 0, 0);

    @Test
    void statusTextHasTwoLinesPerUdpListener() {
        assertThat(StatusReport.udpText(List.of(V6, V4)).lines()).containsExactly(
                "udp listener [::]:12500 tproxy",
                "  flows: 3 active of max 1024, 10 started, 2 failed, 1 evicted",
                "  datagrams: up 40, down 38, dropped 5",
                "udp listener 127.0.0.1:5300 tproxy",
                "  flows: 0 active of max 8, 0 started, 0 failed, 0 evicted",
                "  datagrams: up 0, down 0, dropped 0");
        assertThat(StatusReport.udpText(List.of())).isEmpty();
        UdpListenerStatus fixed = new UdpListenerStatus(new InetSocketAddress("198.18.1.1", 53), 1, 8, 1, 0, 0, 2, 2,
                0, java.util.Optional.of(new InetSocketAddress("198.19.2.2", 5353)));
        assertThat(StatusReport.udpText(List.of(fixed)).lines().findFirst())
                .contains("udp listener 198.18.1.1:53 fixed to 198.19.2.2:5353");
    }

    @Test
    void metricsHaveOneSeriesPerUdpListener() {
        String text = MetricsEndpoint.renderUdp(List.of(V6, V4));
        assertThat(text.lines()).contains(
                "# TYPE chainsocks_udp_flows_active gauge",
                "chainsocks_udp_flows_active{listener=\"[::]:12500\"} 3",
                "chainsocks_udp_flows_active{listener=\"127.0.0.1:5300\"} 0",
                "chainsocks_udp_flows_started_total{listener=\"[::]:12500\"} 10",
                "chainsocks_udp_flows_failed_total{listener=\"[::]:12500\"} 2",
                "chainsocks_udp_flows_evicted_total{listener=\"[::]:12500\"} 1",
                "chainsocks_udp_datagrams_up_total{listener=\"[::]:12500\"} 40",
                "chainsocks_udp_datagrams_down_total{listener=\"[::]:12500\"} 38",
                "chainsocks_udp_datagrams_dropped_total{listener=\"[::]:12500\"} 5");
        assertThat(MetricsEndpoint.renderUdp(List.of())).isEmpty();
    }

    @Test
    void jsonListsUdpListenersBesideTheTcpOnes() throws Exception {
        try (LoopbackRedirector fixture = LoopbackRedirector.toEchoServer()) {
            JsonNode root = new ObjectMapper().readTree(StatusReport.json(fixture.redirector(), List.of(V6)));
            assertThat(root.get("listeners")).hasSize(1);
            JsonNode udp = root.get("udpListeners").get(0);
            assertThat(udp.get("listen").asText()).isEqualTo("[::]:12500");
            assertThat(udp.has("destination")).isFalse();
            assertThat(udp.get("activeFlows").asInt()).isEqualTo(3);
            assertThat(udp.get("maxFlows").asInt()).isEqualTo(1024);
            assertThat(udp.get("flowsEvicted").asLong()).isEqualTo(1);
            assertThat(udp.get("dropped").asLong()).isEqualTo(5);
        }
    }
}
