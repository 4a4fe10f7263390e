package dev.chainsocks.proto.sniff;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.sniff.ServerNameSniffer.Protocol;
import dev.chainsocks.proto.sniff.ServerNameSniffer.Sniffed;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

public class ServerNameSnifferTest {

    /** A real ClientHello, as the JDK's TLS client sends it to {@code host}. */
    public static byte[] clientHello(String host) throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine(host, 443);
        engine.setUseClientMode(true);
        if (host != null) {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(host)));
            engine.setSSLParameters(parameters);
        }
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.beginHandshake();
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    @Test
    void findsTheSniOfARealClientHelloAndWaitsOnEveryPrefix() throws Exception {
        byte[] hello = clientHello("Web.Example.com");
        ByteBuffer whole = ByteBuffer.wrap(hello);
        assertThat(ServerNameSniffer.sniff(whole)).isEqualTo(new Sniffed.Found("web.example.com", Protocol.TLS_SNI));
        assertThat(whole.position()).as("the buffer is not moved").isZero();
        for (int n = 0; n < hello.length; n++) {
            assertThat(ServerNameSniffer.sniff(ByteBuffer.wrap(hello, 0, n))).as("first %d bytes", n)
                    .isIn(new Sniffed.NeedMore(), new Sniffed.Found("web.example.com", Protocol.TLS_SNI));
        }
    }

    /** The JDK's ClientHello cut into two and three handshake records at every point: the name is still found. */
    @Test
    void findsTheSniOfARealClientHelloSplitOverRecords() throws Exception {
        byte[] hello = clientHello("split.example.com");
        byte[] body = java.util.Arrays.copyOfRange(hello, 5, hello.length);
        Sniffed found = new Sniffed.Found("split.example.com", Protocol.TLS_SNI);
        for (int cut = 1; cut < body.length; cut++) {
            byte[] two = records(body, cut);
            assertThat(ServerNameSniffer.sniff(ByteBuffer.wrap(two))).as("cut at %d", cut).isEqualTo(found);
            if (cut % 37 == 0) {
                for (int n = 0; n < two.length; n++) {
                    assertThat(ServerNameSniffer.sniff(ByteBuffer.wrap(two, 0, n))).as("cut %d, first %d", cut, n)
                            .isIn(new Sniffed.NeedMore(), found);
                }
            }
        }
        for (int cut = 1; cut + 40 < body.length; cut += 11) {
            assertThat(ServerNameSniffer.sniff(ByteBuffer.wrap(records(body, cut, cut + 40))))
                    .as("3 records at %d", cut).isEqualTo(found);
        }
    }

    /** {@code body} as consecutive TLS 1.0 handshake records, cut at {@code cuts}. */
    private static byte[] records(byte[] body, int... cuts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int from = 0;
        int[] ends = java.util.stream.IntStream.concat(java.util.Arrays.stream(cuts),
                java.util.stream.IntStream.of(body.length)).toArray();
        for (int end : ends) {
            out.write(0x16);
            out.write(3);
            out.write(1);
            out.write((end - from) >> 8);
            out.write(end - from);
            out.write(body, from, end - from);
            from = end;
        }
        return out.toByteArray();
    }

    @Test
    void aClientHelloWithoutSniHasNoName() throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine();
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.beginHandshake();
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        assertThat(ServerNameSniffer.sniff(out)).isEqualTo(new Sniffed.NoName("ClientHello without server_name"));
    }

    static Stream<Arguments> vectors() {
        String hello = "16 0301 003f 01 00003b 0303" + " 00".repeat(32) + " 00 0002 1301 01 00"
                + " 0010 0000 000c 000a 00 0007 'a.b.com'";
        return Stream.of(
                Arguments.of("minimal ClientHello", hello, "Found[host=a.b.com, protocol=TLS SNI]"),
                Arguments.of("record header only", "16 0301 003f", "NeedMore[]"),
                Arguments.of("not a ClientHello", "16 0301 0004 02 000000", "NoName[why=TLS handshake is not a"
                        + " ClientHello]"),
                Arguments.of("record length past 16 KiB", "16 0301 4001 01", "NoName[why=not a TLS handshake record]"),
                Arguments.of("SNI is an IP", hello.replace("'a.b.com'", "'1.2.3.4'").replace("0007 '1", "0007 '1"),
                        "NoName[why=TLS SNI is an IP address]"),
                Arguments.of("name runs past the record, application data next",
                        "16 0301 003d 01 00003b 0303" + " 00".repeat(32) + " 00 0002 1301 01 00"
                                + " 0010 0000 000c 000a 00 0007 'a.b.com' 17 0303 0001 00",
                        "NoName[why=ClientHello runs past its TLS records]"),
                Arguments.of("name runs past the record, nothing next yet",
                        "16 0301 003d 01 00003b 0303" + " 00".repeat(32) + " 00 0002 1301 01 00"
                                + " 0010 0000 000c 000a 00 0007 'a.b.com'", "NeedMore[]"),
                Arguments.of("ClientHello split over two records",
                        "16 0301 0031 01 00003b 0303" + " 00".repeat(32) + " 00 0002 1301 01 00 0010 0000"
                                + " 16 0301 000e 000c 000a 00 0007 'a.b.com'",
                        "Found[host=a.b.com, protocol=TLS SNI]"),
                Arguments.of("ClientHello split after its type byte",
                        "16 0301 0001 01 16 0301 003e 00003b 0303" + " 00".repeat(32) + " 00 0002 1301 01 00"
                                + " 0010 0000 000c 000a 00 0007 'a.b.com'",
                        "Found[host=a.b.com, protocol=TLS SNI]"),
                Arguments.of("second record's header only", "16 0301 0031 01 00003b 0303" + " 00".repeat(32)
                        + " 00 0002 1301 01 00 0010 0000 16 0301", "NeedMore[]"),
                Arguments.of("second record is an alert", "16 0301 0031 01 00003b 0303" + " 00".repeat(32)
                        + " 00 0002 1301 01 00 0010 0000 15 0303 0002 0228",
                        "NoName[why=ClientHello runs past its TLS records]"),
                Arguments.of("fields run past the hello's length", "16 0301 003f 01 000030 0303" + " 00".repeat(32)
                        + " 00 0002 1301 01 00 0010 0000 000c 000a 00 0007 'a.b.com'",
                        "NoName[why=ClientHello fields run past its length]"),
                Arguments.of("empty handshake record", "16 0301 0000", "NoName[why=not a TLS handshake record]"),
                Arguments.of("HTTP GET", "'GET /x HTTP/1.1' 0d0a 'User-Agent: c' 0d0a 'HOST: WWW.Example.org:8080'"
                        + " 0d0a 0d0a", "Found[host=www.example.org, protocol=HTTP Host]"),
                Arguments.of("HTTP without Host", "'GET / HTTP/1.0' 0d0a 0d0a",
                        "NoName[why=HTTP request without a Host header]"),
                Arguments.of("HTTP head not complete", "'POST / HTTP/1.1' 0d0a 'Accept: */*' 0d0a", "NeedMore[]"),
                Arguments.of("HTTP method only", "'GE'", "NeedMore[]"),
                Arguments.of("HTTP Host is an IPv6 literal", "'GET / HTTP/1.1' 0d0a 'Host: [::1]:80' 0d0a 0d0a",
                        "NoName[why=HTTP Host is not a host name]"),
                Arguments.of("HTTP Host is garbage", "'GET / HTTP/1.1' 0d0a 'Host: a b' 0d0a 0d0a",
                        "NoName[why=HTTP Host is not a host name]"),
                Arguments.of("HTTP/2 preface", "'PRI * HTTP/2.0' 0d0a 0d0a 'SM' 0d0a 0d0a",
                        "NoName[why=not an HTTP/1 request line]"),
                Arguments.of("SSH", "'SSH-2.0-OpenSSH_9.2' 0d0a", "NoName[why=not an HTTP request line]"),
                Arguments.of("binary", "00 01 02", "NoName[why=neither TLS nor HTTP: first byte 0x00]"),
                Arguments.of("nothing yet", "", "NeedMore[]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void vectors(String title, String vector, String expected) {
        ByteBuffer in = Hex.buffer(vector);
        assertThat(ServerNameSniffer.sniff(in)).hasToString(expected);
        assertThat(in.position()).isZero();
    }

    @Test
    void anHttpHeadIsReadOnlyUpToTheLimit() {
        String head = "GET / HTTP/1.1\r\nX: " + "a".repeat(ServerNameSniffer.MAX_BYTES) + "\r\nHost: late.example\r\n\r\n";
        assertThat(ServerNameSniffer.sniff(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo(new Sniffed.NeedMore());
    }
}
