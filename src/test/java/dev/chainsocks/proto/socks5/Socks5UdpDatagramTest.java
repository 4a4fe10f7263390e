package dev.chainsocks.proto.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Hex;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Socks5UdpDatagramTest {

    static Destination ip(String literal, int port) {
        try {
            return Destination.ip(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Stream<Arguments> datagrams() {
        return Stream.of(
                Arguments.of(ip("8.8.8.8", 53), "'query'", "0000 00 01 08080808 0035 'query'"),
                Arguments.of(ip("2001:4860:4860::8888", 53), "'q6'",
                        "0000 00 04 20014860486000000000000000008888 0035 'q6'"),
                Arguments.of(Destination.name("dns.example", 853), "'qd'", "0000 00 03 0b 'dns.example' 0355 'qd'"),
                Arguments.of(ip("10.0.0.1", 9), "", "0000 00 01 0a000001 0009"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("datagrams")
    void encodesAndDecodesHeaderAndPayload(Destination destination, String payload, String datagram) {
        ByteBuffer payloadBuffer = Hex.buffer(payload);
        assertThat(Hex.of(Socks5UdpDatagram.encode(destination, payloadBuffer))).isEqualTo(Hex.normalized(datagram));
        assertThat(payloadBuffer.position()).as("payload not consumed by encode").isZero();

        ByteBuffer in = Hex.buffer(datagram);
        Decoded<Socks5UdpDatagram> decoded = Socks5UdpDatagram.decode(in);
        Socks5UdpDatagram expected = new Socks5UdpDatagram(destination, Hex.bytes(payload));
        assertThat(decoded).isEqualTo(new Decoded.Message<>(expected));
        assertThat(in.hasRemaining()).isFalse();
        assertThat(Hex.of(expected.encode())).isEqualTo(Hex.normalized(datagram));
    }

    @Test
    void dropsFragments() {
        ByteBuffer in = Hex.buffer("0000 01 01 08080808 0035 'part'");
        assertThat(Socks5UdpDatagram.decode(in)).isInstanceOfSatisfying(Decoded.Malformed.class, m -> assertThat(
                m.reason()).isEqualTo("SOCKS5 UDP datagram: fragment FRAG 0x01 not supported, dropped"));
        assertThat(Socks5UdpDatagram.decode(Hex.buffer("0000 80 01 08080808 0035")))
                .hasToString("malformed: SOCKS5 UDP datagram: fragment FRAG 0x80 not supported, dropped");
        assertThat(in.position()).isZero();
    }

    @Test
    void truncatedHeaderIsMalformedNotNeedMore() {
        assertThat(Socks5UdpDatagram.decode(Hex.buffer("0000 00 01 0808")))
                .hasToString("malformed: SOCKS5 UDP datagram: header truncated at 6 bytes");
        assertThat(Socks5UdpDatagram.decode(Hex.buffer("")))
                .hasToString("malformed: SOCKS5 UDP datagram: header truncated at 0 bytes");
    }

    @Test
    void unknownAddressTypeIsMalformed() {
        assertThat(Socks5UdpDatagram.decode(Hex.buffer("0000 00 05 08080808 0035")))
                .hasToString("malformed: SOCKS5 UDP datagram: unknown address type 0x05");
    }

    @Test
    void toleratesNonZeroReservedBytes() {
        assertThat(Socks5UdpDatagram.decode(Hex.buffer("ffff 00 01 08080808 0035 'x'")))
                .isEqualTo(new Decoded.Message<>(new Socks5UdpDatagram(ip("8.8.8.8", 53), Hex.bytes("'x'"))));
    }

    @Test
    void readsWellInLogs() {
        assertThat(new Socks5UdpDatagram(ip("8.8.8.8", 53), new byte[42]))
                .hasToString("SOCKS5 UDP datagram 8.8.8.8:53, 42 bytes");
    }
}
