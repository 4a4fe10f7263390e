package dev.chainsocks.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.chain.ChainPolicy;
import dev.chainsocks.chain.HopProtocol;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.syntax.Cidr;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tinylog.Level;

class ConfigLoaderTest {

    private static final Path FILE = Path.of("/etc/chainsocks/chainsocks.toml");

    private static final String FULL = """
            [service]
            log-level = "debug"
            max-connections = 500
            control-socket = "/run/cs/control.sock"
            mark = 0x2a
            shutdown-grace = "45s"

            [timeouts]
            connect = "3s"
            handshake = "4s"
            dial = "20s"
            idle = "10m"

            [[listener]]
            listen = "0.0.0.0:12345"
            lookup = "netfilter"
            chains = ["main", "backup"]
            policy = "round-robin"
            failover-backoff = "1m"

            [[listener]]
            listen = "[::]:12346"
            lookup = "tproxy"
            chains = ["main"]

            [chain.main]
            hops = ["socks5://alice:secret@198.18.1.2:1080", "http://proxy.example:3128"]
            connect-timeout = "500ms"
            handshake-timeout = "5s"

            [chain.backup]
            hops = ["socks4a://bob@[2001:db8::7]:1080"]

            [metrics]
            listen = "127.0.0.1:9151"

            [firewall]
            exempt = ["10.0.0.0/8", "fd00::/8"]

            [relay]
            mode = "copy"
            memory = "8MiB"
            """;

    private static ChainsocksConfig parse(String toml) throws ConfigException {
        return ConfigLoader.parse(toml, FILE);
    }

    private static String errorOf(String toml) {
        try {
            parse(toml);
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected a ConfigException for:\n" + toml);
    }

    private static final String CHAIN = "\n[chain.main]\nhops = [\"socks5://198.18.1.2:1080\"]\n";

    @Test
    void fullFileMapsEveryKey() throws Exception {
        ChainsocksConfig c = parse(FULL);

        assertThat(c.service()).isEqualTo(new ServiceConfig(Level.DEBUG, 500, Optional.of(Path.of("/run/cs/control.sock")),
                OptionalLong.of(42), Duration.ofSeconds(45)));
        assertThat(c.timeouts()).isEqualTo(new TimeoutsConfig(Duration.ofSeconds(3), Duration.ofSeconds(4),
                Duration.ofSeconds(20), Duration.ofMinutes(10)));

        assertThat(c.listeners()).hasSize(2);
        ListenerConfig first = c.listeners().get(0);
        assertThat(first.listen()).isEqualTo(new InetSocketAddress("0.0.0.0", 12345));
        assertThat(first.lookup()).isEqualTo(LookupKind.NETFILTER);
        assertThat(first.chains()).containsExactly("main", "backup");
        assertThat(first.policy()).isEqualTo(ChainPolicy.ROUND_ROBIN);
        assertThat(first.failoverBackoff()).isEqualTo(Duration.ofMinutes(1));
        ListenerConfig second = c.listeners().get(1);
        assertThat(second.isIpv6()).isTrue();
        assertThat(second.lookup()).isEqualTo(LookupKind.TPROXY);
        assertThat(second.policy()).isEqualTo(ChainPolicy.FAILOVER);
        assertThat(second).hasToString("[::]:12346 tproxy failover [main]");

        assertThat(c.chains()).containsOnlyKeys("main", "backup");
        assertThat(c.chains().keySet()).containsExactly("main", "backup");
        assertThat(c.chain("main")).hasToString(
                "main[socks5://alice:***@198.18.1.2:1080 -> http://proxy.example:3128]");
        assertThat(c.chain("main").hops().get(0).password()).contains("secret");
        ProxyHop backup = c.chain("backup").hops().get(0);
        assertThat(backup.protocol()).isEqualTo(HopProtocol.SOCKS4A);
        assertThat(backup.user()).contains("bob");
        assertThat(c.timeoutsFor("main").connect()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.timeoutsFor("main").handshake()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.timeoutsFor("main").dial()).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.timeoutsFor("backup")).isEqualTo(c.timeouts());

        assertThat(c.metrics()).contains(new MetricsConfig(new InetSocketAddress("127.0.0.1", 9151), false));
        assertThat(c.firewall().exempt()).extracting(Cidr::toString).containsExactly("10.0.0.0/8", "fd00::/8");
        assertThat(c.relay()).isEqualTo(new RelayConfig(RelayConfig.Mode.COPY, 8L << 20));
        assertThat(c.source()).contains(FILE);
        assertThat(c.warnings()).isEmpty();
        assertThat(c.toString()).doesNotContain("secret");
    }

    @Test
    void defaultsFillEverythingLeftOut() throws Exception {
        ChainsocksConfig c = parse("[[listener]]\nlisten = \"127.0.0.1:12345\"\nchains = [\"main\"]\n" + CHAIN);
        assertThat(c.service()).isEqualTo(ServiceConfig.defaults());
        assertThat(c.timeouts()).isEqualTo(TimeoutsConfig.DEFAULTS);
        assertThat(c.listeners().get(0).policy()).isEqualTo(ChainPolicy.FAILOVER);
        assertThat(c.listeners().get(0).lookup()).isEqualTo(LookupKind.NETFILTER);
        assertThat(c.listeners().get(0).failoverBackoff()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.metrics()).isEmpty();
        assertThat(c.firewall()).isEqualTo(FirewallConfig.defaults());
        assertThat(c.firewall().exempt()).hasSize(12);
        assertThat(c.relay()).isEqualTo(new RelayConfig(RelayConfig.Mode.SPLICE, 32L << 20));
    }

    @Test
    void relayModeAndMemoryAreChecked() {
        String listener = "[[listener]]\nlisten = \"127.0.0.1:1\"\nchains = [\"main\"]\n" + CHAIN;
        assertThat(errorOf("[relay]\nmode = \"zerocopy\"\nmemory = \"32MB\"\n" + listener)).isEqualTo(String.join("\n",
                FILE + ":2: [relay] mode: unknown relay mode \"zerocopy\" (use splice or copy)",
                FILE + ":3: [relay] memory: invalid size \"32MB\" (write a whole number and a unit: \"512KiB\","
                        + " \"32MiB\" or \"1GiB\")"));
        assertThat(errorOf("[relay]\n\nmemory = \"512KiB\"\n" + listener))
                .isEqualTo(FILE + ":3: [relay] memory: must be 1MiB..64GiB, got \"512KiB\"");
        assertThat(errorOf("[relay]\nmemory = 32\n" + listener)).startsWith(FILE + ":2: [relay] memory: expected a string");
    }

    @Test
    void directChainWithEmptyHops() throws Exception {
        ChainsocksConfig c = parse("[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"lan\"]\n[chain.lan]\nhops = []\n");
        assertThat(c.chain("lan").isDirect()).isTrue();
    }

    @Test
    void annotatedExampleLoadsCleanly() throws Exception {
        ChainsocksConfig c = ConfigLoader.load(Path.of("systemd/chainsocks.toml"));
        assertThat(c.listeners()).hasSize(2);
        assertThat(c.warnings()).isEmpty();
        assertThat(c.service().mark()).hasValue(0x2a);
        assertThat(c.firewall()).isEqualTo(FirewallConfig.defaults());
        assertThat(c.ipv6Only(c.listeners().get(1))).isTrue();
    }

    @Test
    void unknownTopLevelKey() {
        assertThat(errorOf("# top\n\nlisteners = 3\n[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"main\"]\n" + CHAIN))
                .isEqualTo(FILE + ":3: unknown top-level key \"listeners\" (did you mean \"listener\"? tables are"
                        + " chain, dns, firewall, listener, metrics, relay, service, timeouts)");
    }

    @Test
    void unknownKeyInsideATable() {
        assertThat(errorOf("[service]\nlog-level = \"info\"\n\n[timeouts]\nconnect = \"1s\"\nidel = \"5m\"\n"))
                .isEqualTo(FILE + ":6: [timeouts]: unknown key \"idel\" (did you mean \"idle\"? known keys:"
                        + " connect, dial, handshake, idle, keepalive-count, keepalive-idle, keepalive-interval)");
    }

    @Test
    void unknownKeyInTheSecondListener() {
        String toml = """
                [[listener]]
                listen = "0.0.0.0:1"
                chains = ["main"]

                [[listener]]
                listen = "0.0.0.0:2"
                chains = ["main"]
                interface = "eth0"
                """ + CHAIN;
        assertThat(errorOf(toml)).startsWith(FILE + ":8: [[listener]] #2: unknown key \"interface\" (known keys:"
                + " chains, destination, disclose-src, failover-backoff, flow-idle-timeout, listen, lookup, max-flows,"
                + " on-proxy-fail, policy, protocol, recover-name)");
    }

    @Test
    void unknownKeyInAChain() {
        String toml = "[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"main\"]\n" + CHAIN + "timeout = \"1s\"\n";
        assertThat(errorOf(toml)).startsWith(FILE + ":7: [chain.main]: unknown key \"timeout\"");
    }

    @Test
    void badDurationString() {
        String toml = "[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"main\"]\n" + CHAIN
                + "\n[timeouts]\nidle = \"5 minutes\"\n";
        assertThat(errorOf(toml)).isEqualTo(FILE + ":9: [timeouts] idle: invalid duration \"5 minutes\" (write a"
                + " whole number and a unit: \"500ms\", \"10s\", \"5m\" or \"1h\")");
    }

    @Test
    void durationAsAnIntegerIsRefused() {
        assertThat(errorOf("[timeouts]\n\nconnect = 10\n"))
                .isEqualTo(FILE + ":3: [timeouts] connect: expected a string, found the integer 10; durations are"
                        + " strings with a unit, such as \"10s\"");
    }

    @Test
    void zeroTimeoutIsRefused() {
        assertThat(errorOf("[timeouts]\nhandshake = \"0s\"\n"))
                .contains(FILE + ":2: [timeouts] handshake: must be more than zero, got \"0s\"");
    }

    @Test
    void badHopUriInAMultiLineArray() {
        String toml = """
                [service]
                log-level = "info"

                [[listener]]
                listen = "0.0.0.0:12345"
                chains = ["main"]

                # the main chain
                [chain.main]
                connect-timeout = "5s"
                hops = [
                    "socks5://alice:secret@198.18.1.2:1080",   # first
                    # a comment between elements
                    "sock5://h:1",
                ]
                """;
        assertThat(errorOf(toml)).isEqualTo(FILE + ":14: [chain.main] hops[1]: unknown scheme \"sock5\" in"
                + " \"sock5://h:1\" (use socks4, socks4a, socks5, socks5h, socks5+gssapi, http or http-relay)");
    }

    @Test
    void passwordsNeverAppearInErrors() {
        String toml = "[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"main\"]\n[chain.main]\n"
                + "hops = [\"socks5://alice:hunter2@h.example\"]\n";
        assertThat(errorOf(toml)).isEqualTo(FILE + ":5: [chain.main] hops[0]: missing port in"
                + " \"socks5://alice:***@h.example\" (write host:port, e.g. socks5://proxy.example:1080)");
        assertThat(errorOf("[chain.main]\nhops = \"socks5://alice:hunter2@h.example:1\"\n"))
                .doesNotContain("hunter2")
                .startsWith(FILE + ":2: [chain.main] hops: expected an array, found a string");
    }

    @Test
    void percentEncodedCredentials() throws Exception {
        ChainsocksConfig c = parse("[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"main\"]\n[chain.main]\n"
                + "hops = [\"socks5://us%40er:p%3Ass%40%25@h.example:1080\"]\n");
        ProxyHop hop = c.chain("main").hops().get(0);
        assertThat(hop.user()).contains("us@er");
        assertThat(hop.password()).contains("p:ss@%");
        assertThat(hop.address()).isEqualTo(Destination.name("h.example", 1080));
    }

    @Test
    void syntaxErrorHasItsLine() {
        assertThat(errorOf("[service]\nlog-level = \"info\nmax-connections = 3\n"))
                .startsWith(FILE + ":2: TOML syntax error: ");
    }

    @Test
    void listenerAsPlainTableGetsAHint() {
        assertThat(errorOf("[listener]\nlisten = \"0.0.0.0:1\"\n"))
                .isEqualTo(FILE + ":1: [[listener]]: expected an array, found a table; write [[listener]] with"
                        + " double brackets, once per listener");
    }

    @Test
    void noListener() {
        assertThat(errorOf(CHAIN)).isEqualTo(FILE + ": no [[listener]]; add one such as [[listener]] listen ="
                + " \"0.0.0.0:12345\" chains = [\"main\"]");
    }

    @Test
    void listenerProblemsPointAtTheirKey() {
        String toml = """
                [[listener]]
                listen = "0.0.0.0:1"
                chains = ["main", "mian"]

                [[listener]]
                listen = "localhost:2"
                chains = ["main"]
                lookup = "redirect"

                [[listener]]
                chains = ["main", "main"]
                policy = "strict"
                """ + CHAIN;
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":3: [[listener]] #1 chains[1]: no chain named \"mian\" (defined: main)",
                FILE + ":6: [[listener]] #2 listen: \"localhost\" is not an IP address in \"localhost:2\" (write an IP"
                        + " address and port: \"0.0.0.0:12345\", \"127.0.0.1:12345\" or \"[::]:12345\")",
                FILE + ":8: [[listener]] #3 lookup: unknown lookup \"redirect\" (use netfilter or tproxy)"
                        .replace("#3", "#2"),
                FILE + ":10: [[listener]] #3: missing key listen (such as listen = \"0.0.0.0:12345\")",
                FILE + ":11: [[listener]] #3 chains[1]: chain \"main\" is listed twice",
                FILE + ":12: [[listener]] #3 policy: policy strict takes exactly one chain but chains lists 2 (use"
                        + " failover, round-robin or random to list several)"));
    }

    @Test
    void duplicateAndOverlappingListenAddresses() {
        String toml = """
                [[listener]]
                listen = "0.0.0.0:12345"
                chains = ["main"]
                [[listener]]
                listen = "[::]:12345"
                chains = ["main"]
                [[listener]]
                listen = "0.0.0.0:12345"
                chains = ["main"]
                [[listener]]
                listen = "127.0.0.1:12345"
                chains = ["main"]
                """ + CHAIN;
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":8: [[listener]] #3 listen: 0.0.0.0:12345 is already the address of [[listener]] #1",
                FILE + ":11: [[listener]] #4 listen: 127.0.0.1:12345 overlaps the wildcard address 0.0.0.0:12345 of"
                        + " [[listener]] #1"));
    }

    @Test
    void dualStackUnlessAnIpv4ListenerSharesThePort() throws Exception {
        ChainsocksConfig c = parse("""
                [[listener]]
                listen = "[::]:1"
                chains = ["main"]
                [[listener]]
                listen = "[::]:2"
                chains = ["main"]
                [[listener]]
                listen = "0.0.0.0:2"
                chains = ["main"]
                """ + CHAIN);
        ListenerConfig dual = c.listeners().get(0);
        ListenerConfig v6only = c.listeners().get(1);
        ListenerConfig v4 = c.listeners().get(2);
        assertThat(c.ipv6Only(dual)).isFalse();
        assertThat(c.acceptsIpv4(dual)).isTrue();
        assertThat(c.acceptsIpv6(dual)).isTrue();
        assertThat(c.ipv6Only(v6only)).isTrue();
        assertThat(c.acceptsIpv4(v6only)).isFalse();
        assertThat(c.acceptsIpv4(v4)).isTrue();
        assertThat(c.acceptsIpv6(v4)).isFalse();
    }

    @Test
    void chainProblemsUseTheListenerFamily() {
        String toml = """
                [[listener]]
                listen = "[::]:1"
                chains = ["old"]
                [[listener]]
                listen = "0.0.0.0:2"
                chains = ["v4"]

                [chain.old]
                hops = ["socks5://a.example:1080", "socks4://198.18.0.1:1080"]
                [chain.v4]
                hops = ["socks4://198.18.0.1:1080", "socks5://name.example:1080"]
                """;
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":9: [chain.old] hops: hop 2 socks4://198.18.0.1:1080 is the last hop and cannot carry IPv6"
                        + " destinations, which an IPv6 listener receives; use socks5:// or http://, or use this"
                        + " chain on IPv4 listeners only",
                FILE + ":11: [chain.v4] hops: hop 1 socks4://198.18.0.1:1080 cannot carry the name"
                        + " name.example:1080 to hop 2; use socks4a:// or socks5://"));
    }

    @Test
    void serviceValuesAreRangeChecked() {
        String toml = """
                [service]
                log-level = "verbose"
                max-connections = 0
                control-socket = "run/control.sock"
                mark = 0x100000000
                shutdown-grace = "-1s"
                """;
        assertThat(errorOf(toml)).startsWith(String.join("\n",
                FILE + ":2: [service] log-level: unknown log level \"verbose\" (use error, warn, info, debug or trace)",
                FILE + ":3: [service] max-connections: must be 1..1000000, got 0",
                FILE + ":4: [service] control-socket: must be an absolute path, got \"run/control.sock\"",
                FILE + ":5: [service] mark: must be 1..4294967295 (0x1..0xffffffff), got 4294967296",
                FILE + ":6: [service] shutdown-grace: invalid duration \"-1s\""));
    }

    @Test
    void wrongValueTypes() {
        assertThat(errorOf("[service]\nmax-connections = \"10\"\n"))
                .isEqualTo(FILE + ":2: [service] max-connections: expected an integer, found a string");
        assertThat(errorOf("[metrics]\nallow-remote = \"yes\"\n"))
                .isEqualTo(FILE + ":2: [metrics] allow-remote: expected true or false, found a string");
        assertThat(errorOf("service = 3\n")).isEqualTo(FILE + ":1: [service]: expected a table, found the integer 3");
        assertThat(errorOf("[service]\nmark = 1.5\n"))
                .isEqualTo(FILE + ":2: [service] mark: expected an integer, found the number 1.5");
        assertThat(errorOf("[service]\nmark = true\n"))
                .isEqualTo(FILE + ":2: [service] mark: expected an integer, found true");
        assertThat(errorOf("[metrics]\nallow-remote = 1\n"))
                .isEqualTo(FILE + ":2: [metrics] allow-remote: expected true or false, found the integer 1");
        assertThat(errorOf("[relay]\nmode = false\n"))
                .isEqualTo(FILE + ":2: [relay] mode: expected a string, found false");
        // A TOML date reads as the string it was written as, which is no duration.
        assertThat(errorOf("[service]\nshutdown-grace = 2026-12-02\nmark = 7\n"))
                .startsWith(FILE + ":2: [service] shutdown-grace: invalid duration \"2026-12-02\"");
    }

    @Test
    void anIntegerBeyondALongIsOutOfRangeOnItsLine() {
        assertThat(errorOf("[service]\nlog-level = \"info\"\nmark = 99999999999999999999\n"))
                .isEqualTo(FILE + ":3: [service] mark: the integer 99999999999999999999 is out of range");
    }

    @Test
    void elementsOfArraysAndTablesAreCheckedWithTheirPlace() {
        String toml = """
                [[listener]]
                listen = "127.0.0.1:12345"
                chains = [
                    "main",
                    2,
                ]
                """ + CHAIN;
        assertThat(errorOf(toml))
                .isEqualTo(FILE + ":5: [[listener]] #1 chains[1]: expected a string, found the integer 2");
        assertThat(errorOf("[chain]\nmain = \"socks5://198.18.1.2:1080\"\n"))
                .isEqualTo(FILE + ":2: [chain.main]: expected a table, found a string");
        assertThat(errorOf("listener = [\"127.0.0.1:1\"]\n"))
                .isEqualTo(FILE + ":1: [[listener]] #1: expected a table, found a string");
    }

    @Test
    void theFirstProblemInTheFileIsReported() {
        assertThat(errorOf("[timeouts]\nidle = 5\n[service]\nlogg = \"x\"\n"))
                .startsWith(FILE + ":2: [timeouts] idle: expected a string, found the integer 5");
        assertThat(errorOf("[service]\nlogg = \"x\"\n[timeouts]\nidle = 5\n"))
                .startsWith(FILE + ":2: [service]: unknown key \"logg\"");
    }

    @Test
    void theDnsDefaultKeyBindsAlthoughItIsAJavaKeyword() {
        assertThat(errorOf("[dns]\ndefault = 1\n"))
                .isEqualTo(FILE + ":2: [dns] default: expected a string, found the integer 1");
    }

    @Test
    void metricsAndFirewallChecks() {
        String toml = """
                [[listener]]
                listen = "0.0.0.0:9151"
                chains = ["main"]
                [metrics]
                listen = "127.0.0.1:9151"
                [firewall]
                exempt = [
                  "10.0.0.0/8",
                  "10.0.0.1/8",
                  "banana",
                ]
                """ + CHAIN;
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":5: [metrics] listen: 127.0.0.1:9151 overlaps the wildcard address 0.0.0.0:9151 of"
                        + " [[listener]] #1",
                FILE + ":9: [firewall] exempt[1]: invalid network \"10.0.0.1/8\": host bits set in 10.0.0.1/8; did"
                        + " you mean 10.0.0.0/8?",
                FILE + ":10: [firewall] exempt[2]: invalid network \"banana\" (write an IP address and prefix length,"
                        + " e.g. 10.0.0.0/8 or fc00::/7)"));
        assertThat(errorOf("[metrics]\nlisten = \"0.0.0.0:9151\"\n")).startsWith(FILE + ":2: [metrics] listen:"
                + " 0.0.0.0:9151 is not a loopback address; set allow-remote = true");
    }

    @Test
    void chainNamesAndMissingHops() {
        String toml = "[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"a b\"]\n\n[chain.\"a b\"]\nhops = []\n"
                + "[chain.empty]\n";
        assertThat(errorOf(toml)).isEqualTo(String.join("\n",
                FILE + ":5: [chain.\"a b\"]: invalid chain name (use 1..64 letters, digits, '-' or '_')",
                FILE + ":7: [chain.empty]: missing key hops (list the proxy URIs, first hop first, or write hops = []"
                        + " for direct connections)"));
    }

    @Test
    void unusedChainIsAWarningNotAnError() throws Exception {
        ChainsocksConfig c = parse("[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"main\"]\n" + CHAIN
                + "[chain.spare]\nhops = []\n");
        assertThat(c.warnings()).containsExactly(FILE + ": [chain.spare] is not used by any listener");
    }

    @Test
    void loadReadsTheFileAndNamesIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cs.toml");
        Files.writeString(file, "[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"nope\"]\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessage(file + ":3: [[listener]] #1 chains[0]: no chain named \"nope\" (no [chain.NAME] tables"
                        + " are defined)");
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.toml")))
                .hasMessage(dir.resolve("missing.toml") + ": no such file");
    }

    @Test
    void renderLoadsBackToTheSameConfig() throws Exception {
        ChainsocksConfig original = parse(FULL);
        String rendered = ConfigRenderer.render(original, true);
        ChainsocksConfig again = ConfigLoader.parse(rendered, Path.of("rendered.toml"));
        assertThat(again).isEqualTo(withSource(original, Path.of("rendered.toml")));
        assertThat(ConfigRenderer.render(again, true)).isEqualTo(rendered.replace(FILE.toString(), "rendered.toml"));
    }

    @Test
    void renderHidesPasswordsAndStillLoads() throws Exception {
        ChainsocksConfig original = parse(FULL);
        String rendered = ConfigRenderer.render(original);
        assertThat(rendered).doesNotContain("secret").contains("\"socks5://alice:***@198.18.1.2:1080\"")
                .contains("mark = 0x2a", "policy = \"round-robin\"", "failover-backoff = \"1m\"",
                        "connect-timeout = \"500ms\"", "listen = \"[::]:12346\"", "\"fd00::/8\"");
        ChainsocksConfig again = ConfigLoader.parse(rendered, FILE);
        assertThat(again.chain("main").hops().get(0).password()).contains("***");
        assertThat(again.listeners()).isEqualTo(original.listeners());
        assertThat(again.service()).isEqualTo(original.service());
    }

    @Test
    void keepaliveNeedsAnIdleTimeInWholeSeconds() throws Exception {
        String base = "[chain.c]\nhops = []\n[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"c\"]\n";
        assertThat(parse(base).timeouts().keepalive()).isEmpty();
        assertThat(parse("[timeouts]\nkeepalive-idle = \"2m\"\nkeepalive-count = 4\n" + base).timeouts()
                .keepalive()).contains(new KeepaliveConfig(Duration.ofMinutes(2), Duration.ofSeconds(75), 4));
        assertThatThrownBy(() -> parse("[timeouts]\nkeepalive-interval = \"5s\"\n" + base))
                .hasMessageContaining("[timeouts] keepalive-interval: keepalive is off without keepalive-idle");
        assertThatThrownBy(() -> parse("[timeouts]\nkeepalive-idle = \"1500ms\"\nkeepalive-count = 300\n" + base))
                .hasMessageContaining("[timeouts] keepalive-idle: must be whole seconds, 1s..32767s, got \"1500ms\"")
                .hasMessageContaining("[timeouts] keepalive-count: must be 1..127, got 300");
        String rendered = ConfigRenderer.render(parse("[timeouts]\nkeepalive-idle = \"30s\"\n" + base));
        assertThat(rendered).contains("keepalive-idle = \"30s\"\nkeepalive-interval = \"75s\"\nkeepalive-count = 9\n");
    }

    @Test
    void onProxyFailIsResetOrHttpError() throws Exception {
        String base = "[chain.c]\nhops = []\n[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"c\"]\n";
        assertThat(parse(base).listeners().get(0).onProxyFail()).isEqualTo(OnProxyFail.RESET);
        assertThat(parse(base + "on-proxy-fail = \"HTTP-ERROR\"\n").listeners().get(0).onProxyFail())
                .isEqualTo(OnProxyFail.HTTP_ERROR);
        assertThatThrownBy(() -> parse(base + "on-proxy-fail = \"forward_http_err\"\n"))
                .hasMessageContaining("[[listener]] #1 on-proxy-fail: unknown value \"forward_http_err\" (use reset"
                        + " or http-error)");
    }

    @Test
    void anHttpRelayHopMustBeTheLastHop() throws Exception {
        String listener = "[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"c\"]\n";
        assertThatThrownBy(() -> parse(listener + "[chain.c]\nhops = [\"http-relay://198.18.0.1:3128\","
                + " \"socks5://198.18.0.2:1080\"]\n"))
                .hasMessageContaining("[chain.c] hops: hop 1 http-relay://198.18.0.1:3128 relays plain HTTP requests"
                        + " and can only be the last hop");
        assertThat(parse(listener + "[chain.c]\nhops = [\"socks5://198.18.0.2:1080\","
                + " \"http-relay://u:@proxy.example:3128\"]\n").chain("c").hops().get(1).protocol())
                .isEqualTo(HopProtocol.HTTP_RELAY);
    }

    @Test
    void tproxyMarkAndTableAreCheckedAgainstTheServiceMarkAndReservedTables() {
        String base = "[service]\nmark = 0x3\n[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"lan\"]\n"
                + "[chain.lan]\nhops = []\n";
        assertThatThrownBy(() -> parse(base + "[firewall]\ntproxy-mark = 0x2\ntproxy-table = 254\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("[firewall] tproxy-mark: 0x2 shares bits with [service] mark 0x3")
                .hasMessageContaining("[firewall] tproxy-table: must be 1..4294967295 and not 253, 254 or 255");
    }

    @Test
    void renderOfDefaultsWritesEveryKey() throws Exception {
        ChainsocksConfig c = parse("[[listener]]\nlisten = \"0.0.0.0:1\"\nchains = [\"lan\"]\n[chain.lan]\nhops = []\n");
        String rendered = ConfigRenderer.render(c);
        assertThat(rendered).contains("log-level = \"info\"", "max-connections = 10000",
                "# control-socket not set: $RUNTIME_DIRECTORY/control.sock under systemd, /run/chainsocks/control.sock"
                        + " for root, else $XDG_RUNTIME_DIR/chainsocks/control.sock\n",
                "shutdown-grace = \"30s\"", "idle = \"5m\"",
                "hops = []", "\"ff00::/8\"", "[relay]\nmode = \"splice\"\nmemory = \"32MiB\"\n",
                "tproxy-mark = 0x1\ntproxy-table = 100\n")
                .doesNotContain("\nmark", "[metrics]", "control-socket =");
        assertThat(ConfigLoader.parse(rendered, FILE)).isEqualTo(c);
    }

    @Test
    void quickStartFromFlags() throws Exception {
        ChainsocksConfig c = ChainsocksConfig.fromFlags(List.of("0.0.0.0:12345"),
                List.of("socks5://127.0.0.1:1080", "http://u:p@proxy.example:3128"));
        assertThat(c.listeners()).singleElement().satisfies(l -> {
            assertThat(l.policy()).isEqualTo(ChainPolicy.STRICT);
            assertThat(l.chains()).containsExactly(ChainsocksConfig.CLI_CHAIN);
        });
        assertThat(c.chain("cli")).hasToString("cli[socks5://127.0.0.1:1080 -> http://u:***@proxy.example:3128]");
        assertThat(c.source()).isEmpty();
        assertThat(c.service()).isEqualTo(ServiceConfig.defaults());
        assertThat(ConfigLoader.parse(ConfigRenderer.render(c, true), FILE)).isEqualTo(withSource(c, FILE));
    }

    @Test
    void quickStartErrorsNameTheFlag() {
        assertThatThrownBy(() -> ChainsocksConfig.fromFlags(List.of("0.0.0.0:1", "0.0.0.0:1"),
                List.of("socks5://a.example:1080", "sock5://b:1")))
                .isInstanceOf(ConfigException.class)
                .hasMessage(String.join("\n",
                        "command line: --via #2: unknown scheme \"sock5\" in \"sock5://b:1\" (use socks4, socks4a,"
                                + " socks5, socks5h, socks5+gssapi, http or http-relay)",
                        "command line: --listen #2: 0.0.0.0:1 is already the address of [[listener]] #1"));
        assertThatThrownBy(() -> ChainsocksConfig.fromFlags(List.of(), List.of()))
                .hasMessageContaining("no --listen");
        assertThatThrownBy(() -> ChainsocksConfig.fromFlags(List.of("[::]:1"), List.of("socks4://198.18.0.1:1")))
                .hasMessageStartingWith("command line: --via: hop 1 socks4://198.18.0.1:1 is the last hop");
    }

    private static ChainsocksConfig withSource(ChainsocksConfig c, Path source) {
        return new ChainsocksConfig(c.service(), c.timeouts(), c.listeners(), c.chains(), c.chainTimeouts(),
                c.metrics(), c.firewall(), Optional.of(source), c.relay(), c.dns());
    }
}
