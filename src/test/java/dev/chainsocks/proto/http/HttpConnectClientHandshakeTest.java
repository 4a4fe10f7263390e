package dev.chainsocks.proto.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.ReplyStatus;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HttpConnectClientHandshakeTest {

    static final Destination EXAMPLE = Destination.name("example.com", 443);

    static String text(ByteBuffer buffer) {
        return StandardCharsets.ISO_8859_1.decode(buffer.duplicate()).toString();
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void sendsConnectWithHost() {
        assertThat(text(new HttpConnectClientHandshake(EXAMPLE).outbound()))
                .isEqualTo("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    }

    @Test
    void sendsBasicProxyAuthorization() {
        assertThat(text(new HttpConnectClientHandshake(EXAMPLE, "fred", "secret").outbound())).isEqualTo(
                "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                        + "Proxy-Authorization: Basic ZnJlZDpzZWNyZXQ=\r\n\r\n");
    }

    @Test
    void bracketsIpv6() throws Exception {
        Destination v6 = Destination.ip(InetAddress.getByName("2001:db8::1"), 443);
        assertThat(text(new HttpConnectClientHandshake(v6).outbound())).startsWith(
                "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n");
    }

    @Test
    void refusesAUserWithAColon() {
        assertThatThrownBy(() -> new HttpConnectClientHandshake(EXAMPLE, "a:b", "c"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("':'");
    }

    static Stream<Arguments> responses() {
        Stream<Arguments> rows = Stream.of(
                Arguments.of("HTTP/1.1 200 Connection established\r\n\r\n", new HandshakeOutcome.Granted(EXAMPLE)),
                Arguments.of("HTTP/1.0 200 OK\r\nProxy-Agent: squid\r\n\r\n", new HandshakeOutcome.Granted(EXAMPLE)),
                Arguments.of("HTTP/1.1 200\r\n\r\n", new HandshakeOutcome.Granted(EXAMPLE)),
                Arguments.of("HTTP/1.1 200 OK\n\n", new HandshakeOutcome.Granted(EXAMPLE)),
                Arguments.of("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
                        new HandshakeOutcome.Granted(EXAMPLE)),
                Arguments.of("HTTP/1.1 407 Proxy Authentication Required\r\n"
                                + "Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n",
                        new HandshakeOutcome.AuthenticationFailed(
                                "HTTP 407 Proxy Authentication Required: the proxy requires credentials")),
                Arguments.of("HTTP/1.1 403 Forbidden\r\n\r\n",
                        new HandshakeOutcome.Refused(ReplyStatus.NOT_ALLOWED_BY_RULESET, "HTTP 403 Forbidden")),
                Arguments.of("HTTP/1.1 502 Bad Gateway\r\n\r\n",
                        new HandshakeOutcome.Refused(ReplyStatus.HOST_UNREACHABLE, "HTTP 502 Bad Gateway")),
                Arguments.of("HTTP/1.1 503 Service Unavailable\r\n\r\n",
                        new HandshakeOutcome.Refused(ReplyStatus.CONNECTION_REFUSED, "HTTP 503 Service Unavailable")),
                Arguments.of("HTTP/1.1 504 Gateway Timeout\r\n\r\n",
                        new HandshakeOutcome.Refused(ReplyStatus.TTL_EXPIRED, "HTTP 504 Gateway Timeout")),
                Arguments.of("HTTP/1.1 500 Internal Server Error\r\n\r\n",
                        new HandshakeOutcome.Refused(ReplyStatus.GENERAL_FAILURE, "HTTP 500 Internal Server Error")),
                Arguments.of("HTTP/1.1 2OO OK\r\n\r\n", new HandshakeOutcome.ProtocolError(
                        "HTTP response: malformed status line \"HTTP/1.1 2OO OK\"")),
                Arguments.of("\u0005\u0000", new HandshakeOutcome.ProtocolError(
                        "HTTP response: expected \"HTTP/\", got byte 0x05 at offset 0")));
        return rows.flatMap(row -> Stream.of(Feeding.values()).map(f -> Arguments.of(row.get()[0], row.get()[1], f)));
    }

    @ParameterizedTest(name = "{1}, {2}")
    @MethodSource("responses")
    void mapsResponses(String response, HandshakeOutcome expected, Feeding feeding) {
        HttpConnectClientHandshake client = new HttpConnectClientHandshake(EXAMPLE);
        ByteBuffer left = feeding.feed(bytes(response), client::receive);
        assertThat(client.outcome()).isEqualTo(expected);
        if (!(expected instanceof HandshakeOutcome.ProtocolError)) {
            assertThat(left.remaining()).isZero();
        }
    }

    @Test
    void namesTheUserWhoseCredentialsWereRejected() {
        HttpConnectClientHandshake client = new HttpConnectClientHandshake(EXAMPLE, "fred", "wrong");
        client.receive(ByteBuffer.wrap(bytes("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")));
        assertThat(client.outcome()).isEqualTo(new HandshakeOutcome.AuthenticationFailed(
                "HTTP 407 Proxy Authentication Required: the proxy rejected the credentials of fred"));
    }

    @Test
    void a401AfterOurCredentialsIsAnAuthenticationFailureButWithoutCredentialsARefusal() {
        HttpConnectClientHandshake withCredentials = new HttpConnectClientHandshake(EXAMPLE, "fred", "wrong");
        withCredentials.receive(ByteBuffer.wrap(bytes("HTTP/1.1 401 Unauthorized\r\n\r\n")));
        assertThat(withCredentials.outcome()).isEqualTo(new HandshakeOutcome.AuthenticationFailed(
                "HTTP 401 Unauthorized: the proxy rejected the credentials of fred"));
        HttpConnectClientHandshake without = new HttpConnectClientHandshake(EXAMPLE);
        without.receive(ByteBuffer.wrap(bytes("HTTP/1.1 401 Unauthorized\r\n\r\n")));
        assertThat(without.outcome()).isInstanceOf(HandshakeOutcome.Refused.class);
    }

    @Test
    void leavesTunnelledBytesAfterTheHeadUntouched() {
        HttpConnectClientHandshake client = new HttpConnectClientHandshake(EXAMPLE);
        ByteBuffer in = ByteBuffer.wrap(bytes("HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-OpenSSH_9.6\r\n"));
        client.receive(in);
        client.receive(in);
        assertThat(client.outcome()).isEqualTo(new HandshakeOutcome.Granted(EXAMPLE));
        assertThat(text(in)).isEqualTo("SSH-2.0-OpenSSH_9.6\r\n");
    }

    @Test
    void truncatedHeadLeavesTheOutcomeOpen() {
        HttpConnectClientHandshake client = new HttpConnectClientHandshake(EXAMPLE);
        ByteBuffer in = ByteBuffer.wrap(bytes("HTTP/1.1 200 Connection established\r\n\r"));
        client.receive(in);
        assertThat(client.outcome()).isNull();
        assertThat(in.position()).isZero();
    }

    @Test
    void oversizedHeaderBlockIsAProtocolError() {
        HttpConnectClientHandshake client = new HttpConnectClientHandshake(EXAMPLE);
        client.receive(ByteBuffer.wrap(bytes("HTTP/1.1 200 OK\r\n" + "X-Pad: a\r\n".repeat(2000) + "\r\n")));
        assertThat(client.outcome()).isEqualTo(
                new HandshakeOutcome.ProtocolError("HTTP response: header block exceeds 16384 bytes"));
    }

    @Test
    void describesItself() {
        assertThat(new HttpConnectClientHandshake(EXAMPLE, "fred", "secret")).hasToString("http CONNECT example.com:443 as fred");
    }
}
