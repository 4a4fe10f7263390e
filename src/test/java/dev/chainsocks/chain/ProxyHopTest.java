package dev.chainsocks.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Destination;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProxyHopTest {

    @Test
    void socks5WithCredentialsAndIpv4Literal() throws Exception {
        ProxyHop hop = ProxyHop.parse("socks5://alice:secret@198.18.1.2:1080");
        assertThat(hop.protocol()).isEqualTo(HopProtocol.SOCKS5);
        assertThat(hop.address()).isEqualTo(Destination.ip(InetAddress.getByName("198.18.1.2"), 1080));
        assertThat(hop.user()).contains("alice");
        assertThat(hop.password()).contains("secret");
        assertThat(hop).hasToString("socks5://alice:***@198.18.1.2:1080");
        assertThat(hop.uri(true)).isEqualTo("socks5://alice:secret@198.18.1.2:1080");
    }

    @Test
    void hostNameIsKeptUnresolved() {
        ProxyHop hop = ProxyHop.parse("http://proxy.example:3128");
        assertThat(hop.address()).isEqualTo(Destination.name("proxy.example", 3128));
        assertThat(hop.user()).isEmpty();
        assertThat(hop).hasToString("http://proxy.example:3128");
    }

    @Test
    void bracketedIpv6Literal() throws Exception {
        ProxyHop hop = ProxyHop.parse("socks5h://[2001:db8::1]:1080");
        assertThat(hop.protocol()).isEqualTo(HopProtocol.SOCKS5H);
        assertThat(hop.address()).isEqualTo(Destination.ip(InetAddress.getByName("2001:db8::1"), 1080));
        assertThat(hop).hasToString("socks5h://[2001:db8::1]:1080");
        assertThat(ProxyHop.parse(hop.toString())).isEqualTo(hop);
    }

    @Test
    void socks4UseridWithoutPassword() {
        ProxyHop hop = ProxyHop.parse("socks4a://bob@gw.example:1080");
        assertThat(hop.user()).contains("bob");
        assertThat(hop.password()).isEmpty();
        assertThat(hop).hasToString("socks4a://bob@gw.example:1080");
    }

    @Test
    void percentEncodedCredentialsAreDecodedAndEncodedBack() {
        ProxyHop hop = ProxyHop.parse("socks5://al%40ice:p%3Ass%25w%C3%B6rd@h.example:1080");
        assertThat(hop.user()).contains("al@ice");
        assertThat(hop.password()).contains("p:ss%wörd");
        assertThat(hop.uri(true)).isEqualTo("socks5://al%40ice:p%3Ass%25w%C3%B6rd@h.example:1080");
        assertThat(ProxyHop.parse(hop.uri(true))).isEqualTo(hop);
    }

    @Test
    void schemeIsCaseInsensitiveAndTrailingSlashIsTolerated() {
        assertThat(ProxyHop.parse("HTTP://h.example:8080/")).isEqualTo(
                ProxyHop.of(HopProtocol.HTTP, Destination.name("h.example", 8080)));
    }

    @Test
    void httpAllowsAnEmptyPassword() {
        ProxyHop hop = ProxyHop.parse("http://alice:@h.example:8080");
        assertThat(hop.password()).contains("");
        assertThat(hop).hasToString("http://alice:***@h.example:8080");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            sock5://h:1                        | unknown scheme "sock5" in "sock5://h:1" (use socks4, socks4a, socks5, socks5h, socks5+gssapi, http or http-relay)
            h.example:1080                     | missing scheme in "h.example:1080"
            socks5://h.example                 | missing port in "socks5://h.example" (write host:port
            socks5://h.example:                | missing port in "socks5://h.example:"
            socks5://h.example:0               | port 0 out of range in "socks5://h.example:0" (use 1..65535)
            socks5://h.example:65536           | port 65536 out of range
            socks5://h.example:http            | invalid port "http"
            socks5://h.example:1080/path       | unexpected path, query or fragment "/path"
            http://h.example:1080?x=1          | unexpected path, query or fragment "?x=1"
            http://h.example:1080#top          | unexpected path, query or fragment "#top"
            socks4://bob:pw@h.example:1080     | password not allowed in "socks4://bob:***@h.example:1080"
            socks4a://bob:pw@h.example:1080    | password not allowed in "socks4a://bob:***@h.example:1080"
            socks5://:pw@h.example:1080        | empty user in "socks5://:***@h.example:1080"
            socks4://@h.example:1080           | empty user in "socks4://@h.example:1080"
            socks5://alice@h.example:1080      | missing password in "socks5://alice@h.example:1080"
            socks5://alice:@h.example:1080     | empty password
            socks5://2001:db8::1:1080          | IPv6 address without brackets
            socks5://[2001:db8::1:1080         | unclosed '['
            socks5://[2001:db8::1]             | missing port
            socks5://[fe80::1%eth0]:1080       | invalid IPv6 address
            socks5://300.1.2.3:1080            | invalid IPv4 address "300.1.2.3"
            socks5://bad host:1080             | invalid host name "bad host"
            socks5://:1080                     | missing host
            socks5://a:b%4@h.example:1080      | bad percent-encoding in the credentials in "socks5://a:***@h.example:1080"
            socks5+gssapi://h.example:1080?realm=X | unknown option "realm" in "socks5+gssapi://h.example:1080?realm=X" (the options are service, principal, keytab, ccache and protection
            socks5+gssapi://h.example:1080?protection=clear | protection "clear" is not a protection level in "socks5+gssapi://h.example:1080?protection=clear" (write protection=none, protection=integrity or protection=confidentiality)
            socks5+gssapi://h.example:1080?service | option service without a value
            socks5+gssapi://h.example:1080?service=a&service=b | option service given twice
            socks5+gssapi://h.example:1080?keytab=/k | a keytab needs principal= naming whose key to use
            socks5+gssapi://h.example:1080?principal=a&keytab=k | keytab must be an absolute path, got k
            socks5+gssapi://h.example:1080?principal=a&keytab=/k&ccache=/c | keytab and ccache exclude each other
            socks5+gssapi://alice@h.example:1080 | user information not allowed
            socks5+gssapi://198.18.1.2:1080    | the proxy is given by address, so its Kerberos service principal cannot be derived; write service=rcmd/<proxy host name>
            socks5+gssapi://h.example:1080/x   | unexpected path or fragment "/x"
            """)
    void rejectsWithTheReasonAndTheRedactedUri(String uri, String message) {
        assertThatThrownBy(() -> ProxyHop.parse(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void gssapiHopWithKeytabAndItsServicePrincipal() {
        ProxyHop hop = ProxyHop.parse("socks5+gssapi://proxy.example:1080?principal=alice%40EXAMPLE.TEST"
                + "&keytab=/etc/chainsocks/alice.keytab");
        assertThat(hop.protocol()).isEqualTo(HopProtocol.SOCKS5_GSSAPI);
        assertThat(hop.gssapi()).contains(new GssapiHopOptions("rcmd", Optional.of("alice@EXAMPLE.TEST"),
                Optional.of(Path.of("/etc/chainsocks/alice.keytab")), Optional.empty()));
        assertThat(hop.gssapiServicePrincipal()).contains("rcmd/proxy.example");
        assertThat(hop).hasToString("socks5+gssapi://proxy.example:1080?service=rcmd&principal=alice@EXAMPLE.TEST"
                + "&keytab=/etc/chainsocks/alice.keytab");
        assertThat(ProxyHop.parse(hop.uri(true))).isEqualTo(hop);
    }

    @Test
    void gssapiHopProtectionLevelsRoundTrip() {
        ProxyHop hop = ProxyHop.parse("socks5+gssapi://proxy.example:1080?protection=confidentiality");
        assertThat(hop.gssapi().orElseThrow().protection())
                .isEqualTo(dev.chainsocks.proto.socks5.Socks5GssapiProtection.CONFIDENTIALITY);
        assertThat(hop).hasToString("socks5+gssapi://proxy.example:1080?service=rcmd&protection=confidentiality");
        assertThat(ProxyHop.parse(hop.uri(true))).isEqualTo(hop);
        assertThat(ProxyHop.parse("socks5+gssapi://proxy.example:1080?protection=none"))
                .isEqualTo(ProxyHop.parse("socks5+gssapi://proxy.example:1080"));
    }

    @Test
    void twoProtectingHopsInOneChainAreAProblem() {
        ProxyChain chain = new ProxyChain("two", java.util.List.of(
                ProxyHop.parse("socks5+gssapi://a.example:1080?protection=integrity"),
                ProxyHop.parse("socks5+gssapi://b.example:1080?protection=confidentiality")));
        assertThat(chain.problems(false)).containsExactly("hops 1 and 2 both ask for GSS-API per-message"
                + " protection; chainsocks protects the stream for one hop per chain: keep protection= on one of them");
        assertThat(new ProxyChain("one", java.util.List.of(
                ProxyHop.parse("socks5+gssapi://a.example:1080?protection=integrity"),
                ProxyHop.parse("socks5+gssapi://b.example:1080"))).problems(false)).isEmpty();
    }

    @Test
    void gssapiHopDefaultsAndAGivenServicePrincipal() {
        ProxyHop defaults = ProxyHop.parse("socks5+gssapi://proxy.example:1080");
        assertThat(defaults.gssapi()).contains(GssapiHopOptions.defaults());
        assertThat(defaults).isEqualTo(ProxyHop.of(HopProtocol.SOCKS5_GSSAPI, Destination.name("proxy.example", 1080)));
        ProxyHop byAddress = ProxyHop.parse("socks5+gssapi://198.18.1.2:1080?service=socks/gw.example@EXAMPLE.TEST"
                + "&ccache=/run/chainsocks/krb5cc");
        assertThat(byAddress.gssapiServicePrincipal()).contains("socks/gw.example@EXAMPLE.TEST");
        assertThat(byAddress.gssapi().orElseThrow().credentialCache()).contains(Path.of("/run/chainsocks/krb5cc"));
        assertThat(ProxyHop.parse(byAddress.uri(true))).isEqualTo(byAddress);
        assertThat(ProxyHop.parse("socks5+gssapi://proxy.example:1080?service=socks").gssapiServicePrincipal())
                .contains("socks/proxy.example");
        assertThat(ProxyHop.parse("socks5://proxy.example:1080").gssapiServicePrincipal()).isEmpty();
    }

    @Test
    void passwordNeverAppearsInErrors() {
        assertThatThrownBy(() -> ProxyHop.parse("socks5://alice:hunter2@h.example"))
                .hasMessageNotContaining("hunter2")
                .hasMessageContaining("alice:***@h.example");
        assertThatThrownBy(() -> ProxyHop.parse("socks5://alice:hun/ter2@h.example:1/x"))
                .hasMessageNotContaining("hun");
    }

    @Test
    void recordChecksCredentialsToo() {
        Destination where = Destination.name("h.example", 1080);
        assertThatThrownBy(() -> new ProxyHop(HopProtocol.SOCKS4, where, Optional.of("u"), Optional.of("p")))
                .hasMessageContaining("userid only");
        assertThatThrownBy(() -> new ProxyHop(HopProtocol.SOCKS5, where, Optional.of("u".repeat(256)),
                Optional.of("p"))).hasMessageContaining("more than the 255");
    }

    @Test
    void protocolCapabilities() {
        assertThat(HopProtocol.SOCKS4.canCarryNames()).isFalse();
        assertThat(HopProtocol.SOCKS4.canCarryIpv6()).isFalse();
        assertThat(HopProtocol.SOCKS4A.canCarryNames()).isTrue();
        assertThat(HopProtocol.SOCKS4A.canCarryIpv6()).isFalse();
        for (HopProtocol p : new HopProtocol[] {HopProtocol.SOCKS5, HopProtocol.SOCKS5H, HopProtocol.HTTP}) {
            assertThat(p.canCarryNames()).isTrue();
            assertThat(p.canCarryIpv6()).isTrue();
        }
    }
}
