package dev.chainsocks.proto.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.ServerOutcome.Command;
import dev.chainsocks.proto.ServerOutcome.ProxyProtocol;
import dev.chainsocks.proto.TestAuthenticator;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HttpProxyServerHandshakeTest {

    static final String FRED = "Proxy-Authorization: Basic ZnJlZDpzZWNyZXQ=\r\n";

    static String text(ByteBuffer buffer) {
        return StandardCharsets.ISO_8859_1.decode(buffer.duplicate()).toString();
    }

    static ByteBuffer ascii(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    static Destination ip(String literal, int port) {
        try {
            return Destination.ip(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Stream<Arguments> requests() {
        Stream<Arguments> rows = Stream.of(
                Arguments.of(Authenticator.NONE, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
                        new ServerOutcome.Request(ProxyProtocol.HTTP, Command.CONNECT,
                                Destination.name("example.com", 443), null)),
                Arguments.of(Authenticator.NONE, "CONNECT 10.0.0.1:22 HTTP/1.0\n\n",
                        new ServerOutcome.Request(ProxyProtocol.HTTP, Command.CONNECT, ip("10.0.0.1", 22), null)),
                Arguments.of(Authenticator.NONE, "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n",
                        new ServerOutcome.Request(ProxyProtocol.HTTP, Command.CONNECT, ip("2001:db8::1", 443), null)),
                Arguments.of(TestAuthenticator.USERS, "CONNECT example.com:443 HTTP/1.1\r\n" + FRED + "\r\n",
                        new ServerOutcome.Request(ProxyProtocol.HTTP, Command.CONNECT,
                                Destination.name("example.com", 443), "fred")),
                Arguments.of(Authenticator.NONE, "GET http://example.com/index.html HTTP/1.1\r\nHost: example.com\r\n\r\n",
                        new ServerOutcome.Request(ProxyProtocol.HTTP, Command.HTTP_FORWARD,
                                Destination.name("example.com", 80), null)),
                Arguments.of(TestAuthenticator.USERS, "DELETE HTTP://10.0.0.1:8080 HTTP/1.1\r\n" + FRED + "\r\n",
                        new ServerOutcome.Request(ProxyProtocol.HTTP, Command.HTTP_FORWARD, ip("10.0.0.1", 8080),
                                "fred")));
        return rows.flatMap(row -> Stream.of(Feeding.values())
                .map(f -> Arguments.of(row.get()[0], row.get()[1], row.get()[2], f)));
    }

    @ParameterizedTest(name = "{2}, {3}")
    @MethodSource("requests")
    void parsesRequest(Authenticator authenticator, String head, ServerOutcome expected, Feeding feeding) {
        HttpProxyServerHandshake server = new HttpProxyServerHandshake(authenticator);
        ByteBuffer left = feeding.feed(head.getBytes(StandardCharsets.ISO_8859_1), server::receive);
        assertThat(server.outcome()).isEqualTo(expected);
        assertThat(left.remaining()).isZero();
        assertThat(server.outbound().remaining()).isZero();
    }

    @Test
    void forwardHeadIsOriginFormWithoutHopByHopFields() {
        HttpProxyServerHandshake server = new HttpProxyServerHandshake(TestAuthenticator.USERS);
        server.receive(ascii("GET http://Example.com:8080/a/b?q=1#frag HTTP/1.1\r\n"
                + "Host: wrong.example\r\n"
                + "User-Agent: curl/8.5.0\r\n"
                + FRED
                + "Proxy-Connection: keep-alive\r\n"
                + "Connection: keep-alive, X-Hop\r\n"
                + "Keep-Alive: timeout=5\r\n"
                + "X-Hop: 1\r\n"
                + "Accept: */*\r\n\r\n"));
        assertThat(server.outcome()).isEqualTo(new ServerOutcome.Request(ProxyProtocol.HTTP, Command.HTTP_FORWARD,
                Destination.name("Example.com", 8080), "fred"));
        assertThat(text(server.forwardHead())).isEqualTo("GET /a/b?q=1 HTTP/1.1\r\n"
                + "Host: Example.com:8080\r\n"
                + "User-Agent: curl/8.5.0\r\n"
                + "Accept: */*\r\n"
                + "Connection: close\r\n\r\n");
        assertThat(text(server.forwardHead())).as("a fresh buffer each call").startsWith("GET /a/b?q=1 ");
    }

    @Test
    void forwardLeavesTheBodyAndKeepsItsFraming() {
        HttpProxyServerHandshake server = new HttpProxyServerHandshake(Authenticator.NONE);
        ByteBuffer in = ascii("POST http://10.0.0.1:8080?x HTTP/1.0\r\nContent-Length: 5\r\n"
                + "Connection: Content-Length\r\n\r\nhello");
        server.receive(in);
        assertThat(text(server.forwardHead())).isEqualTo(
                "POST /?x HTTP/1.0\r\nHost: 10.0.0.1:8080\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
        assertThat(text(in)).isEqualTo("hello");
    }

    @Test
    void connectLeavesEarlyTunnelDataUnconsumed() {
        HttpProxyServerHandshake server = new HttpProxyServerHandshake(Authenticator.NONE);
        ByteBuffer in = ascii("CONNECT example.com:443 HTTP/1.1\r\n\r\n\u0016\u0003\u0001");
        server.receive(in);
        assertThat(text(in)).isEqualTo("\u0016\u0003\u0001");
        assertThatThrownBy(server::forwardHead).isInstanceOf(IllegalStateException.class);
    }

    static Stream<Arguments> rejections() {
        return Stream.of(
                Arguments.of(Authenticator.NONE, "GET https://example.com/ HTTP/1.1\r\n\r\n", 400,
                        "https URL https://example.com/ must be tunnelled with CONNECT"),
                Arguments.of(Authenticator.NONE, "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
                        "request target \"/index.html\" is not an absolute http URL; this is a proxy"),
                Arguments.of(Authenticator.NONE, "CONNECT example.com HTTP/1.1\r\n\r\n", 400,
                        "bad request target \"example.com\": no port in \"example.com\""),
                Arguments.of(Authenticator.NONE, "CONNECT example.com:99999 HTTP/1.1\r\n\r\n", 400,
                        "bad request target \"example.com:99999\": port 99999 out of range 1..65535"),
                Arguments.of(Authenticator.NONE, "CONNECT [::1:443 HTTP/1.1\r\n\r\n", 400,
                        "bad request target \"[::1:443\": unclosed IPv6 literal in \"[::1:443\""),
                Arguments.of(Authenticator.NONE, "GET http://user@example.com/ HTTP/1.1\r\n\r\n", 400,
                        "bad request target \"http://user@example.com/\": user info in the URL is not forwarded"),
                Arguments.of(Authenticator.NONE, "GET http://a/ HTTP/1.1\r\nX : y\r\n\r\n", 400,
                        "HTTP request: header name is not a token: \"X \""),
                Arguments.of(Authenticator.NONE, "GET http://a/ HTTP/1.1\r\nX: " + "y".repeat(17000), 400,
                        "HTTP request: header block exceeds 16384 bytes"),
                Arguments.of(TestAuthenticator.USERS, "CONNECT example.com:443 HTTP/1.1\r\n\r\n", 407,
                        "proxy authentication required, no Basic credentials given"),
                Arguments.of(TestAuthenticator.USERS, "CONNECT example.com:443 HTTP/1.1\r\n"
                                + "Proxy-Authorization: Basic ZnJlZDp3cm9uZw==\r\n\r\n", 407,
                        "proxy authentication failed for user \"fred\""),
                Arguments.of(TestAuthenticator.USERS, "CONNECT example.com:443 HTTP/1.1\r\n"
                                + "Proxy-Authorization: Bearer abc\r\n\r\n", 407,
                        "proxy authentication required, no Basic credentials given"),
                Arguments.of(TestAuthenticator.USERS, "CONNECT example.com:443 HTTP/1.1\r\n"
                                + "Proxy-Authorization: Basic !!!\r\n\r\n", 407,
                        "proxy authentication required, no Basic credentials given"));
    }

    @ParameterizedTest(name = "{3}")
    @MethodSource("rejections")
    void rejects(Authenticator authenticator, String head, int status, String reason) {
        HttpProxyServerHandshake server = new HttpProxyServerHandshake(authenticator);
        server.receive(ascii(head));
        assertThat(server.outcome()).isEqualTo(new ServerOutcome.Rejected(reason));
        String answer = text(server.outbound());
        assertThat(answer).startsWith("HTTP/1.1 " + status + " ").contains("Connection: close\r\n")
                .endsWith("\r\n\r\nchainsocks: " + reason + "\n");
        if (status == 407) {
            assertThat(answer).startsWith("HTTP/1.1 407 Proxy Authentication Required\r\n"
                    + "Proxy-Authenticate: Basic realm=\"chainsocks\"\r\n");
        }
        assertThatThrownBy(() -> server.reply(ReplyStatus.SUCCEEDED, null)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void errorResponseDeclaresItsBodyLength() {
        HttpProxyServerHandshake server = new HttpProxyServerHandshake(TestAuthenticator.USERS);
        server.receive(ascii("CONNECT a:1 HTTP/1.1\r\n\r\n"));
        String answer = text(server.outbound());
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        assertThat(answer).contains("Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n")
                .contains("Content-Type: text/plain; charset=utf-8\r\n");
    }

    @Test
    void truncatedHeadLeavesTheOutcomeOpen() {
        HttpProxyServerHandshake server = new HttpProxyServerHandshake(Authenticator.NONE);
        server.receive(ascii("CONNECT example.com:443 HTTP/1.1\r\n\r"));
        assertThat(server.outcome()).isNull();
        assertThatThrownBy(() -> server.reply(ReplyStatus.SUCCEEDED, null)).isInstanceOf(IllegalStateException.class);
    }

    static Stream<Arguments> replies() {
        String connect = "CONNECT example.com:443 HTTP/1.1\r\n\r\n";
        String forward = "GET http://example.com/ HTTP/1.1\r\n\r\n";
        return Stream.of(
                Arguments.of(connect, ReplyStatus.SUCCEEDED, "HTTP/1.1 200 Connection established\r\n\r\n"),
                Arguments.of(connect, ReplyStatus.CONNECTION_REFUSED, "HTTP/1.1 502 Bad Gateway\r\n"),
                Arguments.of(connect, ReplyStatus.HOST_UNREACHABLE, "HTTP/1.1 502 Bad Gateway\r\n"),
                Arguments.of(connect, ReplyStatus.NOT_ALLOWED_BY_RULESET, "HTTP/1.1 403 Forbidden\r\n"),
                Arguments.of(connect, ReplyStatus.TTL_EXPIRED, "HTTP/1.1 504 Gateway Timeout\r\n"),
                Arguments.of(forward, ReplyStatus.SUCCEEDED, ""),
                Arguments.of(forward, ReplyStatus.NETWORK_UNREACHABLE, "HTTP/1.1 502 Bad Gateway\r\n"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("replies")
    void replies(String head, ReplyStatus status, String answerStart) {
        HttpProxyServerHandshake server = new HttpProxyServerHandshake(Authenticator.NONE);
        server.receive(ascii(head));
        server.reply(status, Destination.name("ignored", 1));
        String answer = text(server.outbound());
        assertThat(answer).startsWith(answerStart);
        if (status != ReplyStatus.SUCCEEDED) {
            assertThat(answer).contains("Connection: close\r\n")
                    .endsWith("chainsocks: cannot reach example.com:" + (head.startsWith("GET") ? 80 : 443) + ": "
                            + status.name().toLowerCase().replace('_', ' ') + "\n");
        } else {
            assertThat(answer).isEqualTo(answerStart);
        }
        assertThatThrownBy(() -> server.reply(status, null)).isInstanceOf(IllegalStateException.class);
    }
}
