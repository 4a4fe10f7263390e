package dev.chainsocks.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code [[listener]] protocol = "udp"}: its keys, its defaults, and the chains that can and cannot carry UDP. */
class UdpListenerConfigTest {

    private static final Path FILE = Path.of("/etc/chainsocks/chainsocks.toml");

    private static String errorOf(String toml) {
        try {
            ConfigLoader.parse(toml, FILE);
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected a ConfigException for:\n" + toml);
    }

    @Test
    void udpListenerIsKeptApartFromTcpListenersWithItsKeys() throws Exception {
        ChainsocksConfig c = ConfigLoader.parse("""
                [[listener]]
                listen = "0.0.0.0:12345"
                chains = ["main"]

                [[listener]]
                protocol = "udp"
                listen = "[::]:12345"
                chains = ["main", "spare"]
                flow-idle-timeout = "20s"
                max-flows = 50

                [[listener]]
                protocol = "UDP"
                lookup = "tproxy"
                listen = "127.0.0.1:5300"
                chains = ["spare"]

                [chain.main]
                hops = ["socks5://198.18.1.2:1080"]
                [chain.spare]
                hops = ["socks5h://user:pw@[fd00::2]:1080"]
                """, FILE);
        assertThat(c.listeners()).hasSize(1);
        assertThat(c.udpListeners()).containsExactly(
                new UdpListenerConfig(new InetSocketAddress("::", 12345), List.of("main", "spare"),
                        Duration.ofSeconds(20), 50),
                new UdpListenerConfig(new InetSocketAddress("127.0.0.1", 5300), List.of("spare"),
                        UdpListenerConfig.DEFAULT_FLOW_IDLE, UdpListenerConfig.DEFAULT_MAX_FLOWS));
        assertThat(ConfigRenderer.render(c, false)).contains("""
                [[listener]]
                protocol = "udp"
                listen = "[::]:12345"
                lookup = "tproxy"
                chains = ["main", "spare"]
                flow-idle-timeout = "20s"
                max-flows = 50
                """);
    }

    @Test
    void aConfigurationMayHaveOnlyUdpListeners() throws Exception {
        ChainsocksConfig c = ConfigLoader.parse("""
                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:5300"
                chains = ["main"]
                [chain.main]
                hops = ["socks5://198.18.1.2:1080"]
                """, FILE);
        assertThat(c.listeners()).isEmpty();
        assertThat(c.udpListeners()).hasSize(1);
        assertThat(c.warnings()).isEmpty();
    }

    @Test
    void chainsThatCannotCarryUdpAreRefusedAtTheHopWithTheListenerNamed() {
        String toml = """
                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:5300"
                chains = ["web", "double", "direct", "ok"]

                [chain.web]
                hops = ["http://198.18.1.2:3128"]

                [chain.double]
                hops = [
                  "socks5://198.18.1.2:1080",
                  "socks5://198.18.1.3:1080",
                ]

                [chain.direct]
                hops = []

                [chain.ok]
                hops = ["socks5://198.18.1.2:1080"]
                """;
        String needed = "needed by UDP [[listener]] #1 (0.0.0.0:5300)";
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":7: [chain.web] hops[0]: hop 1 http://198.18.1.2:3128 speaks http, which cannot carry UDP, "
                        + needed + "; UDP needs a socks5 hop whose server supports UDP ASSOCIATE",
                FILE + ":12: [chain.double] hops[1]: hop 2 socks5://198.18.1.3:1080 cannot carry UDP, " + needed
                        + ": datagrams go straight to the first hop's SOCKS5 UDP relay, never through a tunnel, so a"
                        + " chain for UDP has exactly one hop",
                FILE + ":16: [chain.direct] hops: a direct chain (hops = []) cannot carry UDP, " + needed
                        + "; UDP goes through a SOCKS5 UDP ASSOCIATE, so give the chain one socks5 hop"));
    }

    @Test
    void strictTakesOneChain() {
        String toml = """
                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:5300"
                policy = "strict"
                chains = ["a", "b"]
                [chain.a]
                hops = ["socks5://198.18.1.2:1080"]
                [chain.b]
                hops = ["socks5://198.18.1.3:1080"]
                """;
        assertThat(errorOf(toml)).isEqualTo(FILE + ":4: [[listener]] #1 policy: policy strict takes exactly one"
                + " chain but chains lists 2 (use failover to list several)");
    }

    @Test
    void udpAndTcpKeysStayOnTheirSide() {
        String toml = """
                [[listener]]
                listen = "0.0.0.0:12345"
                chains = ["main"]
                max-flows = 10

                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:12345"
                lookup = "netfilter"
                policy = "round-robin"
                chains = ["main"]
                failover-backoff = "5s"
                flow-idle-timeout = "0s"

                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:12345"
                chains = ["main"]
                max-flows = 0

                [[listener]]
                protocol = "sctp"
                listen = "0.0.0.0:1"
                chains = ["main"]

                [chain.main]
                hops = ["socks5://198.18.1.2:1080"]
                """;
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":4: [[listener]] #1 max-flows: applies to UDP listeners only (add protocol = \"udp\", or use"
                        + " [service] max-connections for TCP)",
                FILE + ":9: [[listener]] #2 lookup: a UDP listener always uses tproxy (netfilter REDIRECT keeps no"
                        + " original destination for UDP); remove lookup or write lookup = \"tproxy\"",
                FILE + ":10: [[listener]] #2 policy: a UDP listener tries its chains in order for each new flow; use"
                        + " failover or strict, or remove policy",
                FILE + ":12: [[listener]] #2 failover-backoff: does not apply to UDP listeners (each new flow tries"
                        + " the chains in order)",
                FILE + ":13: [[listener]] #2 flow-idle-timeout: must be more than zero, got \"0s\"",
                FILE + ":17: [[listener]] #3 listen: 0.0.0.0:12345 is already the address of UDP [[listener]] #2",
                FILE + ":19: [[listener]] #3 max-flows: must be 1..100000, got 0",
                FILE + ":22: [[listener]] #4 protocol: unknown protocol \"sctp\" (use tcp or udp)"));
    }
}
