package dev.chainsocks.proto.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Destination;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HttpRelayRequestTest {

    private static final Destination V4 = Destination.ip(address("198.51.100.7"), 80);
    private static final Destination V6 = Destination.ip(address("2001:db8::7"), 8080);

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static ByteBuffer bytes(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String text(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return new String(out, StandardCharsets.ISO_8859_1);
    }

    @Test
    void originFormBecomesAbsoluteWithTheHostHeaderAndTheOriginalPort() {
        HttpRelayRequest request = new HttpRelayRequest(V4, null, null, List.of());
        ByteBuffer in = bytes("GET /a/b?c=d HTTP/1.1\r\nHost: web.example\r\nUser-Agent: t\r\n"
                + "Connection: keep-alive, X-Private\r\nKeep-Alive: timeout=5\r\nX-Private: 1\r\n"
                + "Proxy-Authorization: Basic c2VjcmV0\r\n\r\nBODY");
        request.receive(in);
        assertThat(request.isFinished()).isTrue();
        HttpRelayRequest.Outcome.Rewritten rewritten = (HttpRelayRequest.Outcome.Rewritten) request.outcome();
        assertThat(text(rewritten.head())).isEqualTo("GET http://web.example:80/a/b?c=d HTTP/1.1\r\n"
                + "Host: web.example\r\nUser-Agent: t\r\nConnection: close\r\n\r\n");
        assertThat(text(in)).as("the body stays for the relay").isEqualTo("BODY");
    }

    @Test
    void credentialsAndExtraHeadersAreAddedAndTheAddressStandsInForAMissingHost() {
        HttpRelayRequest request = new HttpRelayRequest(V6, "u", "p:w",
                List.of(new HttpHeader("X-Forwarded-For", "198.18.1.2")));
        request.receive(bytes("HEAD / HTTP/1.0\r\n\r\n"));
        assertThat(text(((HttpRelayRequest.Outcome.Rewritten) request.outcome()).head())).isEqualTo(
                "HEAD http://[2001:db8::7]:8080/ HTTP/1.0\r\nConnection: close\r\n"
                        + "Proxy-Authorization: Basic dTpwOnc=\r\nX-Forwarded-For: 198.18.1.2\r\n\r\n");
    }

    @Test
    void aHeadArrivingInPiecesIsConsumedOnlyWhenComplete() {
        HttpRelayRequest request = new HttpRelayRequest(V4, null, null, List.of());
        ByteBuffer partial = bytes("GET http://x.example/ HTTP/1.1\r\nHost: x.exa");
        request.receive(partial);
        assertThat(request.isFinished()).isFalse();
        assertThat(partial.position()).isZero();
        request.receive(bytes("GET http://x.example/ HTTP/1.1\r\nHost: x.example\r\n\r\n"));
        assertThat(text(((HttpRelayRequest.Outcome.Rewritten) request.outcome()).head()))
                .startsWith("GET http://x.example/ HTTP/1.1\r\n");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "CONNECT web.example:443 HTTP/1.1\\r\\n\\r\\n|CONNECT cannot be relayed",
        "OPTIONS * HTTP/1.1\\r\\n\\r\\n|neither a path nor an http:// URL",
        "GET ftp://x/ HTTP/1.1\\r\\n\\r\\n|neither a path nor an http:// URL",
        "\\u0016\\u0003\\u0001\\u0002\\u0000|HTTP request",
        "GET / HTTP/1.1\\r\\nBad Header\\r\\n\\r\\n|HTTP request",
    })
    void refusesWhatIsNotAPlainHttp1Request(String input, String reason) {
        HttpRelayRequest request = new HttpRelayRequest(V4, null, null, List.of());
        request.receive(bytes(input.replace("\\r", "\r").replace("\\n", "\n")
                .replace("\\u0016", "\u0016").replace("\\u0003", "\u0003").replace("\\u0001", "\u0001")
                .replace("\\u0002", "\u0002").replace("\\u0000", "\u0000")));
        assertThat(request.outcome()).isInstanceOfSatisfying(HttpRelayRequest.Outcome.Refused.class,
                refused -> assertThat(refused.reason()).contains(reason));
    }
}
