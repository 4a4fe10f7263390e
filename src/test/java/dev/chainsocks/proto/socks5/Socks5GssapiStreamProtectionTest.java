package dev.chainsocks.proto.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.GssapiException;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ProtectionException;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ScriptedGssapi;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RFC 1961 section 5 encapsulation ({@code VER=1 MTYP=3 LEN TOKEN}, the token gss_wrap's) over the scripted
 * mechanism, whose tokens are {@code KEY CONF MESSAGE SUM} with the message XOR 0x5a when confidential: exact wire
 * bytes both ways, fed whole and byte by byte, truncated and corrupt.
 */
class Socks5GssapiStreamProtectionTest {

    static final int KEY = 0x07;

    record Vector(Socks5GssapiProtection level, String plaintext, String wire) {
        @Override
        public String toString() {
            return level + " " + plaintext;
        }
    }

    static List<Vector> vectors() {
        return List.of(
                new Vector(Socks5GssapiProtection.INTEGRITY, "'hello'", "01 03 0008 07 00 'hello' 14"),
                new Vector(Socks5GssapiProtection.CONFIDENTIALITY, "'hello'", "01 03 0008 07 01 323f363635 14"),
                new Vector(Socks5GssapiProtection.INTEGRITY, "", "01 03 0003 07 00 00"),
                new Vector(Socks5GssapiProtection.INTEGRITY, "00ff01", "01 03 0006 07 00 00ff01 00"));
    }

    static Socks5GssapiStreamProtection[] pair(Socks5GssapiProtection level) {
        ScriptedGssapi[] contexts = ScriptedGssapi.establishedPair(KEY);
        try {
            return new Socks5GssapiStreamProtection[] {new Socks5GssapiStreamProtection(contexts[0], level),
                    new Socks5GssapiStreamProtection(contexts[1], level)};
        } catch (GssapiException e) {
            throw new AssertionError(e);
        }
    }

    static Stream<Arguments> vectorsFedEveryWay() {
        return vectors().stream().flatMap(v -> Stream.of(Feeding.WHOLE, Feeding.BYTE_BY_BYTE)
                .map(f -> Arguments.of(v, f)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void protects(Vector vector) throws Exception {
        ByteBuffer plaintext = Hex.buffer(vector.plaintext());
        assertThat(Hex.of(pair(vector.level())[0].protect(plaintext))).isEqualTo(Hex.normalized(vector.wire()));
        assertThat(plaintext.hasRemaining()).isFalse();
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("vectorsFedEveryWay")
    void unprotects(Vector vector, Feeding feeding) {
        Socks5GssapiStreamProtection receiver = pair(vector.level())[1];
        ByteArrayOutputStream plaintext = new ByteArrayOutputStream();
        int[] messages = {0};
        ByteBuffer left = feeding.feed(Hex.bytes(vector.wire()), in -> {
            if (receiver.unprotect(in) instanceof Decoded.Message<ByteBuffer> m) {
                plaintext.writeBytes(Hex.drain(m.message()));
                messages[0]++;
            }
        });
        assertThat(messages[0]).isEqualTo(1);
        assertThat(Hex.of(plaintext.toByteArray())).isEqualTo(Hex.normalized(vector.plaintext()));
        assertThat(left.remaining()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void truncatedNeedsMoreAndConsumesNothing(Vector vector) {
        Socks5GssapiStreamProtection receiver = pair(vector.level())[1];
        byte[] bytes = Hex.bytes(vector.wire());
        for (int length = 0; length < bytes.length; length++) {
            ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
            assertThat(receiver.unprotect(in)).as("first %d bytes", length).isInstanceOf(Decoded.NeedMore.class);
            assertThat(in.position()).isZero();
        }
    }

    static Stream<Arguments> corrupt() {
        String prefix = "SOCKS5 GSS-API encapsulated message: ";
        return Stream.of(
                Arguments.of(Socks5GssapiProtection.INTEGRITY, "01 03 0008 07 00 'hellO' 14",
                        prefix + "GSS-API unwrap failed: Checksum failed"),
                Arguments.of(Socks5GssapiProtection.INTEGRITY, "01 03 0008 09 00 'hello' 14",
                        prefix + "GSS-API unwrap failed: Defective token detected"),
                Arguments.of(Socks5GssapiProtection.CONFIDENTIALITY, "01 03 0008 07 00 'hello' 14",
                        prefix + "a message without confidentiality, although CONFIDENTIALITY(0x02) was agreed"),
                Arguments.of(Socks5GssapiProtection.INTEGRITY, "01 ff",
                        prefix + "the peer aborted (RFC 1961 abort message)"),
                Arguments.of(Socks5GssapiProtection.INTEGRITY, "01 01 0001 00",
                        prefix + "expected ENCAPSULATION(0x03), got AUTHENTICATION(0x01)"),
                Arguments.of(Socks5GssapiProtection.INTEGRITY, "05",
                        "SOCKS5 GSS-API message: version 0x05, expected 0x01"),
                Arguments.of(Socks5GssapiProtection.INTEGRITY, "01 07",
                        "SOCKS5 GSS-API message: unknown MTYP 0x07"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("corrupt")
    void corruptIsMalformedAndConsumesNothing(Socks5GssapiProtection level, String hex, String reason) {
        ByteBuffer in = Hex.buffer(hex);
        assertThat(pair(level)[1].unprotect(in)).isEqualTo(new Decoded.Malformed<>(reason,
                ReplyStatus.GENERAL_FAILURE));
        assertThat(in.position()).isZero();
    }

    @Test
    void aLongStreamIsCutIntoMessagesOfAtMost32KiBAndComesBackWhole() throws Exception {
        Socks5GssapiStreamProtection[] ends = pair(Socks5GssapiProtection.CONFIDENTIALITY);
        byte[] data = new byte[100_000];
        new Random(1).nextBytes(data);
        ByteBuffer plaintext = ByteBuffer.wrap(data);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        int messages = 0;
        while (plaintext.hasRemaining()) {
            ByteBuffer message = ends[0].protect(plaintext);
            assertThat(message.remaining()).isLessThanOrEqualTo(ends[0].maxMessageSize());
            wire.writeBytes(Hex.drain(message));
            messages++;
        }
        assertThat(messages).isEqualTo(4); // 32768 * 3 + 1696
        ByteBuffer in = ByteBuffer.wrap(wire.toByteArray());
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        while (in.hasRemaining()) {
            back.writeBytes(Hex.drain(((Decoded.Message<ByteBuffer>) ends[1].unprotect(in)).message()));
        }
        assertThat(back.toByteArray()).isEqualTo(data);
    }

    @Test
    void onlyIntegrityAndConfidentialityWrapAndAFailedWrapSaysWhy() {
        ScriptedGssapi[] contexts = ScriptedGssapi.establishedPair(KEY);
        assertThatThrownBy(() -> new Socks5GssapiStreamProtection(contexts[0], Socks5GssapiProtection.NONE))
                .isInstanceOf(IllegalArgumentException.class);
        ScriptedGssapi unestablished = ScriptedGssapi.initiator("bob@EXAMPLE.TEST", KEY);
        assertThatThrownBy(() -> new Socks5GssapiStreamProtection(unestablished, Socks5GssapiProtection.INTEGRITY)
                .protect(Hex.buffer("00"))).isInstanceOf(ProtectionException.class)
                .hasMessage("context not established");
        assertThat(pair(Socks5GssapiProtection.INTEGRITY)[0].name()).isEqualTo("gssapi-integrity");
    }
}
