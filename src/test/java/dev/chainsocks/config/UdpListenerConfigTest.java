package dev.chainsocks.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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
                chains = ["web", "double", "direct", "ok", "two"]

                [chain.web]
                hops = ["http://198.18.1.2:3128"]

                [chain.double]
                hops = [
                  "socks5://198.18.1.2:1080",
                  "http://198.18.1.3:3128",
                ]

                [chain.two]
                hops = ["socks5://198.18.1.2:1080", "socks5h://proxy.example:1080"]

                [chain.direct]
                hops = []

                [chain.ok]
                hops = ["socks5://198.18.1.2:1080"]
                """;
        String needed = "needed by UDP [[listener]] #1 (0.0.0.0:5300)";
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":7: [chain.web] hops[0]: hop 1 http://198.18.1.2:3128 speaks http, which cannot carry UDP, "
                        + needed + "; UDP needs a socks5 hop whose server supports UDP ASSOCIATE",
                FILE + ":12: [chain.double] hops[1]: hop 2 http://198.18.1.3:3128 speaks http, which cannot carry"
                        + " UDP, " + needed + "; UDP needs socks5 hops (each relays the datagrams of the next) whose"
                        + " server supports UDP ASSOCIATE",
                FILE + ":19: [chain.direct] hops: a direct chain (hops = []) cannot carry UDP, " + needed
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
                FILE + ":9: [[listener]] #2 lookup: netfilter REDIRECT keeps no original destination for UDP; a UDP"
                        + " listener uses tproxy (the default) or fixed (with destination = \"IP:PORT\")",
                FILE + ":10: [[listener]] #2 policy: a UDP listener tries its chains in order for each new flow; use"
                        + " failover or strict, or remove policy",
                FILE + ":12: [[listener]] #2 failover-backoff: does not apply to UDP listeners (each new flow tries"
                        + " the chains in order)",
                FILE + ":13: [[listener]] #2 flow-idle-timeout: must be more than zero, got \"0s\"",
                FILE + ":17: [[listener]] #3 listen: 0.0.0.0:12345 is already the address of UDP [[listener]] #2",
                FILE + ":19: [[listener]] #3 max-flows: must be 1..100000, got 0",
                FILE + ":22: [[listener]] #4 protocol: unknown protocol \"sctp\" (use tcp or udp)"));
    }

    @Test
    void aFixedDestinationListenerSendsEveryDatagramToOneAddress() throws Exception {
        ChainsocksConfig c = ConfigLoader.parse("""
                [[listener]]
                protocol = "udp"
                listen = "198.18.1.1:53"
                lookup = "fixed"
                destination = "[2001:db8::53]:5353"
                chains = ["main"]

                [chain.main]
                hops = ["socks5://198.18.1.2:1080"]
                """, FILE);
        UdpListenerConfig listener = c.udpListeners().get(0);
        assertThat(listener).isEqualTo(new UdpListenerConfig(new InetSocketAddress("198.18.1.1", 53),
                List.of("main"), UdpListenerConfig.DEFAULT_FLOW_IDLE, UdpListenerConfig.DEFAULT_MAX_FLOWS,
                Optional.of(new InetSocketAddress("2001:db8::53", 5353))));
        assertThat(listener.lookup()).isEqualTo(LookupKind.FIXED);
        assertThat(listener.toString()).startsWith("udp 198.18.1.1:53 to [2001:db8::53]:5353 [main]");
        assertThat(ConfigRenderer.render(c, false)).contains("""
                [[listener]]
                protocol = "udp"
                listen = "198.18.1.1:53"
                lookup = "fixed"
                destination = "[2001:db8::53]:5353"
                chains = ["main"]
                """);
        // What check prints loads again to the same listener.
        assertThat(ConfigLoader.parse(ConfigRenderer.render(c, false), FILE).udpListeners())
                .containsExactly(listener);
        assertThat(c.udpListeners().get(0).destination()).isPresent();
        assertThat(new UdpListenerConfig(new InetSocketAddress("::", 5300), List.of("main"),
                UdpListenerConfig.DEFAULT_FLOW_IDLE, 1).lookup()).isEqualTo(LookupKind.TPROXY);
    }

    @Test
    void aFixedDestinationIsRequiredValidAndOnlyForFixedUdpListeners() {
        String toml = """
                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:5300"
                lookup = "fixed"
                chains = ["main"]

                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:5301"
                destination = "192.0.2.53:53"
                chains = ["main"]

                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:5302"
                lookup = "fixed"
                destination = "dns.example:53"
                chains = ["main"]

                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:5303"
                lookup = "fixed"
                destination = "[::]:53"
                chains = ["main"]

                [[listener]]
                protocol = "udp"
                listen = "198.18.1.1:5304"
                lookup = "fixed"
                destination = "198.18.1.1:5304"
                chains = ["main"]

                [[listener]]
                listen = "0.0.0.0:12345"
                lookup = "fixed"
                destination = "192.0.2.53:53"
                chains = ["main"]

                [[listener]]
                protocol = "udp"
                listen = "0.0.0.0:5305"
                lookup = "sideways"
                chains = ["main"]

                [chain.main]
                hops = ["socks5://198.18.1.2:1080"]
                """;
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":4: [[listener]] #1 lookup: lookup = \"fixed\" needs destination = \"IP:PORT\", where every"
                        + " datagram goes (such as destination = \"192.0.2.53:53\")",
                FILE + ":10: [[listener]] #2 destination: applies to lookup = \"fixed\" only; add lookup = \"fixed\""
                        + " to send every datagram there, or remove destination to take each datagram's own"
                        + " destination from TPROXY",
                FILE + ":17: [[listener]] #3 destination: \"dns.example\" is not an IP address in"
                        + " \"dns.example:53\" (write an IP address and port: \"192.0.2.53:53\" or"
                        + " \"[2001:db8::53]:53\")",
                FILE + ":24: [[listener]] #4 destination: \"[::]:53\" is a wildcard address; name the one server"
                        + " every datagram goes to",
                FILE + ":31: [[listener]] #5 destination: \"198.18.1.1:5304\" is the listener's own address;"
                        + " datagrams would come back to it",
                FILE + ":36: [[listener]] #6 lookup: lookup = \"fixed\" is for UDP listeners (add protocol ="
                        + " \"udp\"); a TCP listener uses netfilter or tproxy",
                FILE + ":37: [[listener]] #6 destination: applies to UDP listeners with lookup = \"fixed\" only (a"
                        + " TCP listener finds each connection's destination with netfilter or tproxy)",
                FILE + ":43: [[listener]] #7 lookup: unknown lookup \"sideways\"; a UDP listener uses tproxy (the"
                        + " default) or fixed (with destination = \"IP:PORT\")"));
    }
}
