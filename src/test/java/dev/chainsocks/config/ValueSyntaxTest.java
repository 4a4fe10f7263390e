package dev.chainsocks.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.Cidr;
import dev.chainsocks.syntax.DurationSyntax;
import dev.chainsocks.syntax.SizeSyntax;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ValueSyntaxTest {

    @ParameterizedTest
    @CsvSource({"500ms,PT0.5S,500ms", "10s,PT10S,10s", "90s,PT1M30S,90s", "5m,PT5M,5m", "1h,PT1H,1h",
            "120m,PT2H,2h", "0s,PT0S,0s", "1500ms,PT1.5S,1500ms"})
    void durations(String text, Duration expected, String formatted) {
        assertThat(DurationSyntax.parse(text)).isEqualTo(expected);
        assertThat(DurationSyntax.format(expected)).isEqualTo(formatted);
    }

    @ParameterizedTest
    @CsvSource({"512KiB,524288,512KiB", "1024KiB,1048576,1MiB", "32MiB,33554432,32MiB", "2048MiB,2147483648,2GiB",
            "3GiB,3221225472,3GiB"})
    void sizes(String text, long expected, String formatted) {
        assertThat(SizeSyntax.parse(text)).isEqualTo(expected);
        assertThat(SizeSyntax.format(expected)).isEqualTo(formatted);
    }

    @ParameterizedTest
    @ValueSource(strings = {"32", "32M", "32MB", "32 MiB", "32mib", "1.5GiB", "-1MiB", "MiB", "1TiB", ""})
    void badSizes(String text) {
        assertThatThrownBy(() -> SizeSyntax.parse(text)).hasMessageStartingWith("invalid size \"" + text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10", "10 s", "1.5s", "-1s", "s", "1d", "10S", ""})
    void badDurations(String text) {
        assertThatThrownBy(() -> DurationSyntax.parse(text)).hasMessageStartingWith("invalid duration \"" + text);
    }

    @ParameterizedTest
    @CsvSource({"10.0.0.0/8,10.0.0.0/8", "192.0.2.7,192.0.2.7/32", "fc00::/7,fc00::/7", "::1/128,::1/128",
            "2001:db8:0:0:1:0:0:0/80,2001:db8:0:0:1::/80", "2001:0:0:1:0:0:0:0/64,2001:0:0:1::/64",
            "0.0.0.0/0,0.0.0.0/0", "::/0,::/0"})
    void cidrs(String text, String canonical) {
        assertThat(Cidr.parse(text)).hasToString(canonical);
    }

    @Test
    void cidrChecks() throws Exception {
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("prefix length 33 out of range 0..32");
        assertThatThrownBy(() -> Cidr.parse("fe80::1/10")).hasMessageContaining("did you mean fe80::/10?");
        assertThatThrownBy(() -> Cidr.parse("example.com/8")).hasMessageContaining("invalid network");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/")).hasMessageContaining("invalid prefix length");
        Cidr lan = Cidr.parse("192.168.0.0/16");
        assertThat(lan.contains(InetAddress.getByName("192.168.3.4"))).isTrue();
        assertThat(lan.contains(InetAddress.getByName("192.169.0.1"))).isFalse();
        assertThat(lan.contains(InetAddress.getByName("::1"))).isFalse();
        assertThat(lan.isIpv6()).isFalse();
        assertThat(Cidr.parse("fc00::/7").isIpv6()).isTrue();
    }

    @Test
    void listenAddresses() {
        assertThat(AddressSyntax.format(ListenerConfig.parseAddress("0.0.0.0:12345"))).isEqualTo("0.0.0.0:12345");
        assertThat(AddressSyntax.format(ListenerConfig.parseAddress("[::]:12345"))).isEqualTo("[::]:12345");
        assertThat(AddressSyntax.format(ListenerConfig.parseAddress("[::1]:1"))).isEqualTo("[::1]:1");
        assertThatThrownBy(() -> ListenerConfig.parseAddress("12345")).hasMessageStartingWith("missing port");
        assertThatThrownBy(() -> ListenerConfig.parseAddress(":::1")).hasMessageStartingWith("IPv6 address without");
        assertThatThrownBy(() -> ListenerConfig.parseAddress("0.0.0.0:0")).hasMessageStartingWith("invalid port");
    }

    @Test
    void sourceLinesFollowTomlStructure() {
        String toml = """
                # comment with a quote ' and ''' in it
                title = \"\"\"
                several
                lines\"\"\"
                [a]
                x = { y = 1, z = [1,
                  2] }
                "quoted.key" = 'v'
                [[arr]]
                k = 1
                [[arr]]
                k = 2
                [arr.sub]
                m = [
                  [1, 2],
                  'three',
                ]
                [b.c]
                d.e = 5
                """;
        SourceLines lines = SourceLines.scan(toml);
        assertThat(lines.lineOf(List.of("title"))).isEqualTo(2);
        assertThat(lines.lineOf(List.of("a"))).isEqualTo(5);
        assertThat(lines.lineOf(List.of("a", "x", "z", "1"))).isEqualTo(7);
        assertThat(lines.lineOf(List.of("a", "quoted.key"))).isEqualTo(8);
        assertThat(lines.lineOf(List.of("arr", "0", "k"))).isEqualTo(10);
        assertThat(lines.lineOf(List.of("arr", "1"))).isEqualTo(11);
        assertThat(lines.lineOf(List.of("arr", "1", "k"))).isEqualTo(12);
        assertThat(lines.lineOf(List.of("arr", "1", "sub", "m", "1"))).isEqualTo(16);
        assertThat(lines.lineOf(List.of("arr", "1", "sub", "m", "0", "1"))).isEqualTo(15);
        assertThat(lines.lineOf(List.of("b"))).isEqualTo(18);
        assertThat(lines.lineOf(List.of("b", "c", "d", "e"))).isEqualTo(19);
        assertThat(lines.lineOf(List.of("b", "c", "unknown"))).isEqualTo(18);
        assertThat(lines.lineOf(List.of("nowhere"))).isZero();
    }

    @Test
    void describePaths() {
        assertThat(ConfigValidator.describe(List.of("chain", "main", "hops", "1"))).isEqualTo("[chain.main] hops[1]");
        assertThat(ConfigValidator.describe(List.of("listener", "0", "chains"))).isEqualTo("[[listener]] #1 chains");
        assertThat(ConfigValidator.describe(List.of("service", "mark"))).isEqualTo("[service] mark");
        assertThat(ConfigValidator.describe(List.of("bogus"))).isEqualTo("bogus");
        assertThat(ConfigValidator.describe(List.of())).isEmpty();
    }
}
