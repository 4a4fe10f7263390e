package dev.chainsocks.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.syntax.Cidr;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code [dns]} table: values, defaults, rules by suffix, and errors with their lines. */
class DnsConfigTest {

    private static final Path FILE = Path.of("/etc/chainsocks/chainsocks.toml");
    private static final String REST = """

            [[listener]]
            listen = "0.0.0.0:12345"
            chains = ["main"]

            [chain.main]
            hops = ["socks5://198.18.0.1:1080"]
            """;

    static ChainsocksConfig parse(String toml) throws ConfigException {
        return ConfigLoader.parse(toml, FILE);
    }

    static String errorOf(String toml) {
        try {
            parse(toml);
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + toml);
    }

    @Test
    void everyKey() throws Exception {
        ChainsocksConfig c = parse("""
                [dns]
                listen = ["127.0.0.53:53", "[::1]:5353"]
                fake-ipv4 = "100.80.0.0/16"
                fake-ipv6 = "64:ff9b:1:1::/64"
                ttl = "30s"
                max-entries = 1000
                proxy = ["Example.COM.", ".blocked.example"]
                direct = ["lan", "corp.example.com"]
                default = "direct"
                upstream = "192.0.2.53:53"
                upstream-via-chain = "main"
                timeout = "3s"
                """ + REST);
        DnsConfig dns = c.dns().orElseThrow();
        assertThat(dns.listen()).containsExactly(new InetSocketAddress("127.0.0.53", 53),
                new InetSocketAddress("::1", 5353));
        assertThat(dns.fakeIpv4()).isEqualTo(Cidr.parse("100.80.0.0/16"));
        assertThat(dns.fakeIpv6()).isEqualTo(Cidr.parse("64:ff9b:1:1::/64"));
        assertThat(dns.ttl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(dns.maxEntries()).isEqualTo(1000);
        assertThat(dns.rules()).hasToString("[proxy example.com, proxy blocked.example, direct lan,"
                + " direct corp.example.com]");
        assertThat(dns.defaultAction()).isEqualTo(DnsConfig.Action.DIRECT);
        assertThat(dns.upstream()).contains(new InetSocketAddress("192.0.2.53", 53));
        assertThat(dns.upstreamViaChain()).contains("main");
        assertThat(dns.timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.warnings()).isEmpty();
        assertThat(ConfigLoader.parse(ConfigRenderer.render(c), FILE).dns()).isEqualTo(c.dns());
    }

    @Test
    void defaults() throws Exception {
        DnsConfig dns = parse("[dns]\nlisten = [\"127.0.0.53:53\"]\n" + REST).dns().orElseThrow();
        assertThat(dns.fakeIpv4()).isEqualTo(Cidr.parse("100.64.0.0/10"));
        assertThat(dns.fakeIpv6()).isEqualTo(Cidr.parse("64:ff9b:1::/48"));
        assertThat(dns.ttl()).isEqualTo(Duration.ofSeconds(60));
        assertThat(dns.maxEntries()).isEqualTo(65_536);
        assertThat(dns.defaultAction()).isEqualTo(DnsConfig.Action.PROXY);
        assertThat(dns.upstream()).isEmpty();
        assertThat(dns.upstreamViaChain()).isEmpty();
        assertThat(parse(REST).dns()).isEmpty();
    }

    @Test
    void theLongestSuffixDecides() throws Exception {
        DnsConfig dns = parse("""
                [dns]
                listen = ["127.0.0.53:53"]
                proxy = ["example.com"]
                direct = ["corp.example.com"]
                default = "direct"
                """ + REST).dns().orElseThrow();
        assertThat(dns.actionFor("www.example.com")).isEqualTo(DnsConfig.Action.PROXY);
        assertThat(dns.actionFor("example.com")).isEqualTo(DnsConfig.Action.PROXY);
        assertThat(dns.actionFor("intranet.corp.example.com")).isEqualTo(DnsConfig.Action.DIRECT);
        assertThat(dns.actionFor("badexample.com")).isEqualTo(DnsConfig.Action.DIRECT);
        assertThat(dns.actionFor("example.org")).isEqualTo(DnsConfig.Action.DIRECT);
    }

    @Test
    void onlyAddressesNearbyClientsUseMayServeDns() throws Exception {
        for (String nearby : List.of("127.0.0.53", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1",
                "100.64.0.1", "100.127.255.254", "198.18.0.1", "198.19.255.1", "fd00::53", "fe80::1")) {
            assertThat(ConfigValidator.servesOnlyNearbyClients(InetAddress.getByName(nearby))).as(nearby).isTrue();
        }
        for (String open : List.of("0.0.0.0", "::", "203.0.113.5", "100.128.0.1", "198.20.0.1", "8.8.8.8",
                "2001:db8::53", "64:ff9b::1")) {
            assertThat(ConfigValidator.servesOnlyNearbyClients(InetAddress.getByName(open))).as(open).isFalse();
        }
    }

    @Test
    void problemsNameTheirLines() {
        assertThat(errorOf("""
                [dns]
                listen = ["127.0.0.53", "0.0.0.0:12345"]
                fake-ipv4 = "fd00::/64"
                fake-ipv6 = "64:ff9b:1::/127"
                """ + REST)).isEqualTo(String.join("\n",
                FILE + ":2: [dns] listen[0]: missing port in \"127.0.0.53\" (write an IP address and port:"
                        + " \"0.0.0.0:12345\", \"127.0.0.1:12345\" or \"[::]:12345\")",
                FILE + ":2: [dns] listen[1]: 0.0.0.0:12345 would answer anyone who can reach it: an open resolver,"
                        + " which others use for amplification attacks; listen on a loopback or LAN address (such as"
                        + " \"127.0.0.53:53\" or \"192.168.1.1:53\")",
                FILE + ":2: [dns] listen[1]: 0.0.0.0:12345 is already the address of [[listener]] #1 (TCP cannot"
                        + " share it)",
                FILE + ":3: [dns] fake-ipv4: \"fd00::/64\" is not an IPv4 network",
                FILE + ":4: [dns] fake-ipv6: \"64:ff9b:1::/127\" is too small for a pool (use a prefix of at most"
                        + " /126)"));
        assertThat(errorOf("[dns]\nlisten = [\"127.0.0.53:53\"]\nttl = 60\n" + REST))
                .isEqualTo(FILE + ":3: [dns] ttl: expected a string, found the integer 60; durations are strings"
                        + " with a unit, such as \"60s\"");
        assertThat(errorOf("""
                [dns]
                listen = ["127.0.0.53:53"]
                proxy = ["example.com", "ex ample"]
                direct = ["EXAMPLE.com"]
                default = "block"
                max-entries = 0
                upstream-via-chain = "tor"
                """ + REST)).isEqualTo(String.join("\n",
                FILE + ":3: [dns] proxy[1]: \"ex ample\" is not a domain name (write a name such as \"example.com\";"
                        + " it matches itself and every name under it)",
                FILE + ":4: [dns] direct[0]: \"example.com\" is already listed in proxy",
                FILE + ":5: [dns] default: unknown action \"block\" (use proxy or direct)",
                FILE + ":6: [dns] max-entries: must be 1..4000000, got 0",
                FILE + ":7: [dns] upstream-via-chain: no chain named \"tor\" (defined: main)",
                FILE + ":7: [dns] upstream-via-chain: needs upstream, the resolver to reach through the chain (such"
                        + " as upstream = \"9.9.9.9:53\")"));
    }

    @Test
    void unknownKeysAndExemptPoolsAreRefused() {
        assertThat(errorOf("[dns]\nlisten = [\"127.0.0.53:53\"]\n\nfake-ip = \"100.64.0.0/10\"\n" + REST))
                .startsWith(FILE + ":4: [dns]: unknown key \"fake-ip\" (");
        assertThat(errorOf("[dns]\nlisten = [\"127.0.0.53:53\"]\nfake-ipv6 = \"fd00:1::/64\"\n" + REST))
                .isEqualTo(FILE + ":3: [dns] fake-ipv6: fd00:1::/64 overlaps the [firewall] exempt network fc00::/7,"
                        + " so connections to its addresses would not be redirected (choose another pool or change"
                        + " exempt)");
        assertThat(errorOf("[dns]\nfake-ipv4 = \"100.64.0.0/10\"\n" + REST))
                .isEqualTo(FILE + ":1: [dns]: missing key listen (such as listen = [\"127.0.0.53:53\"]; UDP and TCP"
                        + " are served on each address)");
    }

    @Test
    void theRecordChecksItsOwnInvariants() {
        assertThatThrownBy(() -> new DnsConfig(List.of(new InetSocketAddress("127.0.0.1", 53)),
                Cidr.parse("100.64.0.0/10"), Cidr.parse("64:ff9b:1::/48"), Duration.ofSeconds(1), 1, List.of(),
                DnsConfig.Action.PROXY, Optional.empty(), Optional.of("main"), Duration.ofSeconds(1)))
                .hasMessage("upstream-via-chain needs upstream");
    }
}
