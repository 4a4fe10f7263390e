package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.http.HttpProxyServerHandshake;
import dev.chainsocks.proto.socks4.Socks4ServerHandshake;
import dev.chainsocks.proto.socks5.Socks5ServerHandshake;
import dev.chainsocks.server.ProtocolSniffer.Guess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProtocolSnifferTest {

    @ParameterizedTest(name = "0x{0} -> {1}")
    @CsvSource({
        "04, SOCKS4", "05, SOCKS5", "43, HTTP", "47, HTTP", "50, HTTP", "41, HTTP", "5a, HTTP",
        "61, UNKNOWN", "16, UNKNOWN", "00, UNKNOWN", "ff, UNKNOWN", "40, UNKNOWN", "5b, UNKNOWN"})
    void classifiesTheFirstByte(String hex, Guess expected) {
        assertThat(ProtocolSniffer.classify(Integer.parseInt(hex, 16))).isEqualTo(expected);
        assertThat(ProtocolSniffer.classify((byte) Integer.parseInt(hex, 16))).isEqualTo(expected);
    }

    @Test
    void picksTheServerHandshake() {
        assertThat(ProtocolSniffer.handshakeFor(0x04, Authenticator.NONE)).containsInstanceOf(Socks4ServerHandshake.class);
        assertThat(ProtocolSniffer.handshakeFor(0x05, Authenticator.NONE)).containsInstanceOf(Socks5ServerHandshake.class);
        assertThat(ProtocolSniffer.handshakeFor('C', Authenticator.NONE)).containsInstanceOf(HttpProxyServerHandshake.class);
        assertThat(ProtocolSniffer.handshakeFor(0x16, Authenticator.NONE)).isEmpty();
    }
}
