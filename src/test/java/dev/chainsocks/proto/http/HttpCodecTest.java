package dev.chainsocks.proto.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Hex;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HttpCodecTest {

    static ByteBuffer ascii(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    static String text(ByteBuffer buffer) {
        return StandardCharsets.ISO_8859_1.decode(buffer.duplicate()).toString();
    }

    @Test
    void requestHeadRoundTripsByteForByte() {
        HttpRequestHead head = new HttpRequestHead("CONNECT", "example.com:443", "HTTP/1.1",
                List.of(new HttpHeader("Host", "example.com:443"), new HttpHeader("X-Latin1", "caf\u00e9")));
        ByteBuffer encoded = HttpCodec.encodeRequestHead(head);
        assertThat(text(encoded))
                .isEqualTo("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nX-Latin1: caf\u00e9\r\n\r\n");
        assertThat(HttpCodec.decodeRequestHead(encoded)).isEqualTo(new Decoded.Message<>(head));
        assertThat(encoded.hasRemaining()).isFalse();
    }

    @Test
    void acceptsBareLfLineEndingsAndTrimsValues() {
        ByteBuffer in = ascii("HTTP/1.0 200 OK\nServer:   squid \t\n\nbody");
        assertThat(HttpCodec.decodeResponseHead(in)).isEqualTo(new Decoded.Message<>(
                new HttpResponseHead("HTTP/1.0", 200, "OK", List.of(new HttpHeader("Server", "squid")))));
        assertThat(text(in)).isEqualTo("body");
    }

    @Test
    void everyTruncatedHeadNeedsMore() {
        byte[] head = "HTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int length = 0; length < head.length; length++) {
            ByteBuffer in = ByteBuffer.wrap(head, 0, length);
            assertThat(HttpCodec.decodeResponseHead(in)).as("first %d bytes", length).isInstanceOf(Decoded.NeedMore.class);
            assertThat(in.position()).isZero();
        }
    }

    static Stream<Arguments> malformedRequests() {
        return Stream.of(
                Arguments.of("GET http://a/ HTTP/1.1\r\nX: a\rb\r\n\r\n", "bare CR (0x0d) inside line 2"),
                Arguments.of("GET http://a/ HTTP/1.1\r\nX: a\u0000b\r\n\r\n", "control byte 0x00 in line 2"),
                Arguments.of("GET http://a/ HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", "obsolete line folding"),
                Arguments.of("GET http://a/ HTTP/1.1\r\nX : a\r\n\r\n", "header name is not a token: \"X \""),
                Arguments.of("GET http://a/ HTTP/1.1\r\nno colon\r\n\r\n", "header line without a name and colon"),
                Arguments.of("GET http://a/ HTTP/2.0\r\n\r\n", "malformed request line \"GET http://a/ HTTP/2.0\""),
                Arguments.of("GET  http://a/ HTTP/1.1\r\n\r\n", "malformed request line"),
                Arguments.of("GET\r\n\r\n", "byte 0x0d at offset 3 is not part of a method name"),
                Arguments.of("\u0016\u0003\u0001", "byte 0x16 at offset 0 is not part of a method name"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("malformedRequests")
    void namesWhatIsWrongWithARequestHead(String head, String reason) {
        ByteBuffer in = ascii(head);
        assertThat(HttpCodec.decodeRequestHead(in)).isInstanceOfSatisfying(Decoded.Malformed.class,
                m -> assertThat(m.reason()).startsWith("HTTP request: ").contains(reason));
        assertThat(in.position()).isZero();
    }

    static Stream<Arguments> malformedResponses() {
        return Stream.of(
                Arguments.of("HTTP/1.1 2OO OK\r\n\r\n", "malformed status line \"HTTP/1.1 2OO OK\""),
                Arguments.of("HTTP/1.1 200OK\r\n\r\n", "malformed status line"),
                Arguments.of("HTTP/1.1 099 Low\r\n\r\n", "malformed status line"),
                Arguments.of("HTTP/3 200 OK\r\n\r\n", "malformed status line"),
                Arguments.of("\u0005\u0000", "expected \"HTTP/\", got byte 0x05 at offset 0"),
                Arguments.of("HTTX", "expected \"HTTP/\", got byte 0x58 at offset 3"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("malformedResponses")
    void namesWhatIsWrongWithAResponseHead(String head, String reason) {
        assertThat(HttpCodec.decodeResponseHead(ascii(head))).isInstanceOfSatisfying(Decoded.Malformed.class,
                m -> assertThat(m.reason()).startsWith("HTTP response: ").contains(reason));
    }

    @Test
    void headBeyondTheCapIsMalformedNotBuffered() {
        String head = "HTTP/1.1 200 OK\r\n" + "X-Pad: " + "a".repeat(HttpCodec.MAX_HEAD_BYTES) + "\r\n\r\n";
        ByteBuffer in = ascii(head);
        assertThat(HttpCodec.decodeResponseHead(in))
                .hasToString("malformed: HTTP response: header block exceeds 16384 bytes");
        ByteBuffer exactlyTheCap = ascii(head.substring(0, HttpCodec.MAX_HEAD_BYTES));
        assertThat(HttpCodec.decodeResponseHead(exactlyTheCap)).isInstanceOf(Decoded.Malformed.class);
        ByteBuffer justUnder = ascii(head.substring(0, HttpCodec.MAX_HEAD_BYTES - 1));
        assertThat(HttpCodec.decodeResponseHead(justUnder)).isInstanceOf(Decoded.NeedMore.class);
    }

    @Test
    void headersCannotBeInjected() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new HttpHeader("X", "a\r\nInjected: yes"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x0d");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> new HttpRequestHead("CONNECT", "a b:1", "HTTP/1.1", List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void credentialsAreHiddenInLogs() {
        assertThat(new HttpHeader("Proxy-Authorization", "Basic ZnJlZDpzZWNyZXQ="))
                .hasToString("Proxy-Authorization: (hidden)");
        assertThat(Hex.of(ascii("x"))).isEqualTo("78");
    }
}
