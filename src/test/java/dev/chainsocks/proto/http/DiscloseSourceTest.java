package dev.chainsocks.proto.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Destination;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiscloseSourceTest {

    private static InetSocketAddress client(String literal) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(literal), 40000);
    }

    @Test
    void headersNameTheClientAddressOnly() throws Exception {
        assertThat(DiscloseSource.OFF.headers(client("198.18.1.2"))).isEmpty();
        assertThat(DiscloseSource.X_FORWARDED_FOR.headers(client("198.18.1.2")))
                .containsExactly(new HttpHeader("X-Forwarded-For", "198.18.1.2"));
        assertThat(DiscloseSource.FORWARDED.headers(client("198.18.1.2")))
                .containsExactly(new HttpHeader("Forwarded", "for=198.18.1.2"));
        assertThat(DiscloseSource.FORWARDED.headers(client("fd00:1:0::2")))
                .containsExactly(new HttpHeader("Forwarded", "for=\"[fd00:1::2]\""));
        assertThat(DiscloseSource.X_FORWARDED_FOR.headers(client("fd00:1::2")))
                .containsExactly(new HttpHeader("X-Forwarded-For", "fd00:1::2"));
        assertThat(DiscloseSource.fromConfigName("X-Forwarded-For")).contains(DiscloseSource.X_FORWARDED_FOR);
        assertThat(DiscloseSource.fromConfigName("forwarded_ip")).isEmpty();
    }

    @Test
    void theConnectRequestCarriesThemAfterTheCredentials() throws Exception {
        HttpConnectClientHandshake handshake = new HttpConnectClientHandshake(
                Destination.ip(InetAddress.getByName("198.51.100.7"), 443), "u", "p",
                DiscloseSource.X_FORWARDED_FOR.headers(client("198.18.1.2")));
        ByteBuffer out = handshake.outbound();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).isEqualTo("CONNECT 198.51.100.7:443 HTTP/1.1\r\n"
                + "Host: 198.51.100.7:443\r\nProxy-Authorization: Basic dTpw\r\nX-Forwarded-For: 198.18.1.2\r\n\r\n");
        HttpConnectClientHandshake none = new HttpConnectClientHandshake(
                Destination.ip(InetAddress.getByName("198.51.100.7"), 443), null, null, List.of());
        ByteBuffer plain = none.outbound();
        byte[] plainBytes = new byte[plain.remaining()];
        plain.get(plainBytes);
        assertThat(new String(plainBytes, StandardCharsets.ISO_8859_1))
                .isEqualTo("CONNECT 198.51.100.7:443 HTTP/1.1\r\nHost: 198.51.100.7:443\r\n\r\n");
    }
}
