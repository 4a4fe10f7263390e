package dev.chainsocks.proto.socks4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ReplyStatus;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Socks4ClientHandshakeTest {

    static final Destination GOOGLE = Destination.ip(address("66.102.7.99"), 80);

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Stream<Arguments> replies() {
        Stream<Arguments> rows = Stream.of(
                Arguments.of("00 5a 0000 00000000", new HandshakeOutcome.Granted(Destination.ip(address("0.0.0.0"), 0))),
                Arguments.of("00 5a 1f90 0a000001", new HandshakeOutcome.Granted(Destination.ip(address("10.0.0.1"), 8080))),
                Arguments.of("00 5b 0000 00000000",
                        new HandshakeOutcome.Refused(ReplyStatus.GENERAL_FAILURE, "REJECTED(0x5b)")),
                Arguments.of("00 5c 0000 00000000",
                        new HandshakeOutcome.Refused(ReplyStatus.NOT_ALLOWED_BY_RULESET, "IDENTD_UNREACHABLE(0x5c)")),
                Arguments.of("00 5d 0000 00000000",
                        new HandshakeOutcome.Refused(ReplyStatus.NOT_ALLOWED_BY_RULESET, "IDENTD_USER_MISMATCH(0x5d)")),
                Arguments.of("04 5a 0000 00000000",
                        new HandshakeOutcome.ProtocolError("SOCKS4 reply: version 0x04, expected 0x00")),
                Arguments.of("00 2a 0000 00000000",
                        new HandshakeOutcome.ProtocolError("SOCKS4 reply: unknown reply code 0x2a")));
        return rows.flatMap(row -> Stream.of(Feeding.values()).map(f -> Arguments.of(row.get()[0], row.get()[1], f)));
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("replies")
    void mapsEveryReply(String vector, HandshakeOutcome expected, Feeding feeding) {
        Socks4ClientHandshake handshake = new Socks4ClientHandshake(GOOGLE, "Fred");
        assertThat(Hex.of(Hex.drain(handshake.outbound()))).isEqualTo(Hex.normalized("04 01 00 50 42 66 07 63 46 72 65 64 00"));

        ByteBuffer left = feeding.feed(Hex.bytes(vector), handshake::receive);

        assertThat(handshake.outcome()).isEqualTo(expected);
        if (!(expected instanceof HandshakeOutcome.ProtocolError)) {
            assertThat(left.remaining()).isZero();
        }
    }

    @Test
    void truncatedReplyLeavesTheOutcomeOpen() {
        Socks4ClientHandshake handshake = new Socks4ClientHandshake(GOOGLE, null);
        ByteBuffer in = Hex.buffer("00 5a 0000 000000");
        handshake.receive(in);
        assertThat(handshake.outcome()).isNull();
        assertThat(in.position()).isZero();
    }

    @Test
    void socks4aSendsTheNameAfterTheUserId() {
        Socks4ClientHandshake handshake = Socks4ClientHandshake.socks4a(Destination.name("example.com", 80), "Fred");
        assertThat(Hex.of(handshake.outbound()))
                .isEqualTo(Hex.normalized("04 01 0050 00000001 'Fred' 00 'example.com' 00"));
        assertThat(handshake).hasToString("socks4a CONNECT example.com:80");
    }

    @Test
    void socks4aSendsAnIpv4AddressAsPlainSocks4() {
        Socks4ClientHandshake handshake = Socks4ClientHandshake.socks4a(GOOGLE, "");
        assertThat(Hex.of(handshake.outbound())).isEqualTo(Hex.normalized("04 01 0050 42660763 00"));
    }

    @Test
    void plainSocks4RefusesNamesAndIpv6AtConstruction() {
        assertThatThrownBy(() -> new Socks4ClientHandshake(Destination.name("example.com", 80), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SOCKS4 cannot carry a host name (example.com:80): resolve it first or use SOCKS4a");
        assertThatThrownBy(() -> new Socks4ClientHandshake(Destination.ip(address("::1"), 80), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SOCKS4 cannot carry an IPv6 destination: [::1]:80");
        assertThatThrownBy(() -> Socks4ClientHandshake.socks4a(Destination.ip(address("::1"), 80), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("IPv6");
    }

    @Test
    void describesItself() {
        assertThat(new Socks4ClientHandshake(GOOGLE, "Fred")).hasToString("socks4 CONNECT 66.102.7.99:80");
    }
}
