package dev.chainsocks.proto.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ReplyStatus;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Socks5GssapiCodecTest {

    record Vector(Socks5GssapiMessage message, String hex) {
        @Override
        public String toString() {
            return message + " = " + hex;
        }
    }

    static Vector vector(Socks5GssapiMessageType type, String token, String hex) {
        return new Vector(new Socks5GssapiMessage(type, Hex.bytes(token)), hex);
    }

    static List<Vector> vectors() {
        byte[] large = new byte[300];
        for (int i = 0; i < large.length; i++) {
            large[i] = (byte) i;
        }
        return List.of(
                // RFC 1961 section 3.3: VER=1 MTYP=1 LEN TOKEN; a Kerberos AP-REQ starts with the GSS-API tag 0x60.
                vector(Socks5GssapiMessageType.AUTHENTICATION, "60 0b 06 09 2a864886f712010202",
                        "01 01 000d 60 0b 06 09 2a864886f712010202"),
                vector(Socks5GssapiMessageType.AUTHENTICATION, "", "01 01 0000"),
                vector(Socks5GssapiMessageType.PROTECTION, "050404ff 00 0c 0000 00000000 00000001 00",
                        "01 02 0011 050404ff 00 0c 0000 00000000 00000001 00"),
                vector(Socks5GssapiMessageType.ENCAPSULATION, "'wrapped'", "01 03 0007 'wrapped'"),
                new Vector(new Socks5GssapiMessage(Socks5GssapiMessageType.AUTHENTICATION, large),
                        "01 01 012c " + Hex.of(large)),
                new Vector(Socks5GssapiMessage.abort(), "01 ff"));
    }

    static Stream<Arguments> vectorsFedEveryWay() {
        return vectors().stream().flatMap(v -> Stream.of(Feeding.values()).map(f -> Arguments.of(v, f)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void encodes(Vector vector) {
        assertThat(Hex.of(Socks5GssapiCodec.encode(vector.message()))).isEqualTo(Hex.normalized(vector.hex()));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("vectorsFedEveryWay")
    void decodes(Vector vector, Feeding feeding) {
        List<Socks5GssapiMessage> decoded = new ArrayList<>();
        ByteBuffer left = feeding.feed(Hex.bytes(vector.hex()), in -> {
            if (Socks5GssapiCodec.decode(in) instanceof Decoded.Message<Socks5GssapiMessage> m) {
                decoded.add(m.message());
            }
        });
        assertThat(decoded).containsExactly(vector.message());
        assertThat(left.remaining()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void truncatedNeedsMoreAndConsumesNothing(Vector vector) {
        byte[] bytes = Hex.bytes(vector.hex());
        for (int length = 0; length < bytes.length; length++) {
            ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
            assertThat(Socks5GssapiCodec.decode(in)).as("first %d bytes", length)
                    .isInstanceOf(Decoded.NeedMore.class);
            assertThat(in.position()).isZero();
        }
    }

    static Stream<Arguments> corrupt() {
        return Stream.of(
                Arguments.of("05 01 0000", "SOCKS5 GSS-API message: version 0x05, expected 0x01"),
                Arguments.of("00", "SOCKS5 GSS-API message: version 0x00, expected 0x01"),
                Arguments.of("01 00", "SOCKS5 GSS-API message: unknown MTYP 0x00"),
                Arguments.of("01 04 0001 00", "SOCKS5 GSS-API message: unknown MTYP 0x04"),
                Arguments.of("01 fe", "SOCKS5 GSS-API message: unknown MTYP 0xfe"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("corrupt")
    void corruptIsMalformedAsSoonAsTheBadByteArrives(String hex, String reason) {
        ByteBuffer in = Hex.buffer(hex);
        assertThat(Socks5GssapiCodec.decode(in)).isEqualTo(new Decoded.Malformed<>(reason, ReplyStatus.GENERAL_FAILURE));
        assertThat(in.position()).isZero();
    }

    @Test
    void twoMessagesInOneReadDecodeOneAtATime() {
        ByteBuffer in = Hex.buffer("01 01 0002 abcd 01 ff");
        assertThat(Socks5GssapiCodec.decode(in)).isEqualTo(new Decoded.Message<>(
                new Socks5GssapiMessage(Socks5GssapiMessageType.AUTHENTICATION, Hex.bytes("abcd"))));
        assertThat(Socks5GssapiCodec.decode(in)).isEqualTo(new Decoded.Message<>(Socks5GssapiMessage.abort()));
        assertThat(in.hasRemaining()).isFalse();
    }

    @Test
    void refusesToEncodeWhatTheWireCannotCarry() {
        assertThatThrownBy(() -> new Socks5GssapiMessage(Socks5GssapiMessageType.AUTHENTICATION, new byte[65536]))
                .hasMessageContaining("65536 bytes is longer than the 65535");
        assertThatThrownBy(() -> new Socks5GssapiMessage(Socks5GssapiMessageType.ABORT, new byte[1]))
                .hasMessageContaining("abort message carries no token");
    }

    @Test
    void codesAndMessagesReadWellInLogs() {
        assertThat(Socks5GssapiMessageType.ABORT).hasToString("ABORT(0xff)");
        assertThat(Socks5GssapiProtection.NONE).hasToString("NONE(0x00)");
        assertThat(Socks5GssapiProtection.describe(2)).isEqualTo("CONFIDENTIALITY(0x02)");
        assertThat(Socks5GssapiProtection.describe(9)).isEqualTo("unknown(0x09)");
        assertThat(new Socks5GssapiMessage(Socks5GssapiMessageType.PROTECTION, Hex.bytes("00ff")))
                .hasToString("GSS-API PROTECTION(0x02) 2 bytes 00ff");
        assertThat(Socks5GssapiMessage.abort()).hasToString("GSS-API ABORT(0xff)");
    }
}
