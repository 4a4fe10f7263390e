package dev.chainsocks.proto.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ReplyStatus;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Socks5CodecTest {

    /** One wire message: its record, its bytes, and the codec's two directions for its type. */
    record Vector(Object message, String hex, Function<Object, ByteBuffer> encoder,
            Function<ByteBuffer, Decoded<?>> decoder) {
        @Override
        public String toString() {
            return message + " = " + hex;
        }
    }

    @SuppressWarnings("unchecked")
    static <T> Vector vector(T message, String hex, Function<T, ByteBuffer> encoder,
            Function<ByteBuffer, Decoded<T>> decoder) {
        return new Vector(message, hex, m -> encoder.apply((T) m), in -> decoder.apply(in));
    }

    static Destination ip(String literal, int port) {
        try {
            return Destination.ip(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Vector greeting(Socks5Greeting g, String hex) {
        return vector(g, hex, Socks5Codec::encodeGreeting, Socks5Codec::decodeGreeting);
    }

    static Vector request(Socks5Request r, String hex) {
        return vector(r, hex, Socks5Codec::encodeRequest, Socks5Codec::decodeRequest);
    }

    static Vector reply(Socks5Reply r, String hex) {
        return vector(r, hex, Socks5Codec::encodeReply, Socks5Codec::decodeReply);
    }

    List<Vector> vectors() {
        List<Vector> rows = new ArrayList<>(List.of(
                greeting(Socks5Greeting.of(Socks5AuthMethod.NO_AUTHENTICATION), "05 01 00"),
                greeting(Socks5Greeting.of(Socks5AuthMethod.NO_AUTHENTICATION, Socks5AuthMethod.USERNAME_PASSWORD),
                        "05 02 00 02"),
                greeting(new Socks5Greeting(List.of(0x01, 0x80)), "05 02 01 80"),
                vector(new Socks5MethodSelection(Socks5AuthMethod.NO_AUTHENTICATION), "05 00",
                        Socks5Codec::encodeMethodSelection, Socks5Codec::decodeMethodSelection),
                vector(new Socks5MethodSelection(Socks5AuthMethod.USERNAME_PASSWORD), "05 02",
                        Socks5Codec::encodeMethodSelection, Socks5Codec::decodeMethodSelection),
                vector(new Socks5MethodSelection(Socks5AuthMethod.NO_ACCEPTABLE_METHODS), "05 ff",
                        Socks5Codec::encodeMethodSelection, Socks5Codec::decodeMethodSelection),
                vector(new Socks5PasswordAuthRequest("fred", "secret"), "01 04 'fred' 06 'secret'",
                        Socks5Codec::encodePasswordAuthRequest, Socks5Codec::decodePasswordAuthRequest),
                vector(new Socks5PasswordAuthResponse(Socks5PasswordAuthStatus.SUCCESS), "01 00",
                        Socks5Codec::encodePasswordAuthResponse, Socks5Codec::decodePasswordAuthResponse),
                vector(new Socks5PasswordAuthResponse(Socks5PasswordAuthStatus.FAILURE), "01 01",
                        Socks5Codec::encodePasswordAuthResponse, Socks5Codec::decodePasswordAuthResponse),
                request(new Socks5Request(Socks5Command.CONNECT, ip("66.102.7.99", 80)), "05 01 00 01 42660763 0050"),
                request(new Socks5Request(Socks5Command.CONNECT, ip("2001:db8::1", 443)),
                        "05 01 00 04 20010db8000000000000000000000001 01bb"),
                request(new Socks5Request(Socks5Command.CONNECT, Destination.name("example.com", 443)),
                        "05 01 00 03 0b 'example.com' 01bb"),
                request(new Socks5Request(Socks5Command.BIND, ip("10.0.0.1", 21)), "05 02 00 01 0a000001 0015"),
                request(new Socks5Request(Socks5Command.UDP_ASSOCIATE, ip("0.0.0.0", 0)), "05 03 00 01 00000000 0000"),
                reply(new Socks5Reply(Socks5ReplyCode.SUCCEEDED, Destination.name("proxy.example", 1080)),
                        "05 00 00 03 0d 'proxy.example' 0438"),
                reply(new Socks5Reply(Socks5ReplyCode.SUCCEEDED, ip("::1", 40000)),
                        "05 00 00 04 00000000000000000000000000000001 9c40")));
        for (Socks5ReplyCode code : Socks5ReplyCode.values()) {
            rows.add(reply(new Socks5Reply(code, ip("10.0.0.1", 8080)),
                    String.format("05 %02x 00 01 0a000001 1f90", code.byteValue())));
        }
        return rows;
    }

    Stream<Arguments> vectorsFedEveryWay() {
        return vectors().stream().flatMap(v -> Stream.of(Feeding.values()).map(f -> Arguments.of(v, f)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void encodes(Vector vector) {
        assertThat(Hex.of(vector.encoder().apply(vector.message()))).isEqualTo(Hex.normalized(vector.hex()));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("vectorsFedEveryWay")
    void decodes(Vector vector, Feeding feeding) {
        List<Object> decoded = new ArrayList<>();
        ByteBuffer left = feeding.feed(Hex.bytes(vector.hex()), in -> {
            if (vector.decoder().apply(in) instanceof Decoded.Message<?> m) {
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
            assertThat(vector.decoder().apply(in)).as("first %d bytes", length).isInstanceOf(Decoded.NeedMore.class);
            assertThat(in.position()).isZero();
        }
    }

    static Stream<Arguments> corrupt() {
        Function<ByteBuffer, Decoded<?>> greeting = Socks5Codec::decodeGreeting;
        Function<ByteBuffer, Decoded<?>> selection = Socks5Codec::decodeMethodSelection;
        Function<ByteBuffer, Decoded<?>> passwordRequest = Socks5Codec::decodePasswordAuthRequest;
        Function<ByteBuffer, Decoded<?>> passwordResponse = Socks5Codec::decodePasswordAuthResponse;
        Function<ByteBuffer, Decoded<?>> request = Socks5Codec::decodeRequest;
        Function<ByteBuffer, Decoded<?>> reply = Socks5Codec::decodeReply;
        return Stream.of(
                Arguments.of(greeting, "04 01 00", "SOCKS5 greeting: unsupported version 0x04, expected 0x05",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(greeting, "05 00", "SOCKS5 greeting: no methods offered (NMETHODS 0x00)",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(selection, "05 03", "SOCKS5 method selection: unknown method 0x03",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(passwordRequest, "05 04 'fred' 06 'secret'",
                        "RFC 1929 request: unsupported sub-negotiation version 0x05, expected 0x01",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(passwordRequest, "01 00", "RFC 1929 request: username length 0x00, must be 1..255",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(passwordRequest, "01 01 'a' 00", "RFC 1929 request: password length 0x00, must be 1..255",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(passwordResponse, "05 00",
                        "RFC 1929 response: unsupported sub-negotiation version 0x05, expected 0x01",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(request, "05 09", "SOCKS5 request: unknown command 0x09",
                        ReplyStatus.COMMAND_NOT_SUPPORTED),
                Arguments.of(request, "05 01 00 07", "SOCKS5 request: unknown address type 0x07",
                        ReplyStatus.ADDRESS_TYPE_NOT_SUPPORTED),
                Arguments.of(request, "05 01 00 03 00 0050", "SOCKS5 request: empty domain name (length 0x00)",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(request, "05 01 00 03 03 'a' 00 'b' 0050",
                        "SOCKS5 request: domain name contains byte 0x00", ReplyStatus.GENERAL_FAILURE),
                Arguments.of(reply, "05 09 00 01 00000000 0000", "SOCKS5 reply: unknown reply code 0x09",
                        ReplyStatus.GENERAL_FAILURE),
                Arguments.of(reply, "05 2a", "SOCKS5 reply: unknown reply code 0x2a", ReplyStatus.GENERAL_FAILURE),
                Arguments.of(reply, "05 00 00 02", "SOCKS5 reply: unknown address type 0x02",
                        ReplyStatus.ADDRESS_TYPE_NOT_SUPPORTED),
                Arguments.of(reply, "04 00", "SOCKS5 reply: unsupported version 0x04, expected 0x05",
                        ReplyStatus.GENERAL_FAILURE));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("corrupt")
    void corruptIsMalformedAsSoonAsTheBadByteArrives(Function<ByteBuffer, Decoded<?>> decoder, String hex,
            String reason, ReplyStatus fault) {
        ByteBuffer in = Hex.buffer(hex);
        assertThat(decoder.apply(in)).isEqualTo(new Decoded.Malformed<>(reason, fault));
        assertThat(in.position()).isZero();
    }

    @Test
    void toleratesNonZeroReservedByte() {
        ByteBuffer in = Hex.buffer("05 01 ff 01 42660763 0050");
        assertThat(Socks5Codec.decodeRequest(in))
                .isEqualTo(new Decoded.Message<>(new Socks5Request(Socks5Command.CONNECT, ip("66.102.7.99", 80))));
    }

    @Test
    void anyNonZeroPasswordStatusIsFailure() {
        assertThat(Socks5Codec.decodePasswordAuthResponse(Hex.buffer("01 7f")))
                .isEqualTo(new Decoded.Message<>(new Socks5PasswordAuthResponse(Socks5PasswordAuthStatus.FAILURE)));
    }

    @Test
    void refusesToEncodeWhatTheWireCannotCarry() {
        assertThatThrownBy(() -> new Socks5Greeting(List.of())).hasMessageContaining("1..255 methods, got 0");
        assertThatThrownBy(() -> new Socks5Greeting(Collections.nCopies(256, 0)))
                .hasMessageContaining("1..255 methods, got 256");
        assertThatThrownBy(() -> new Socks5PasswordAuthRequest("", "x")).hasMessageContaining("username must be 1..255");
        assertThatThrownBy(() -> new Socks5PasswordAuthRequest("u", "p".repeat(256)))
                .hasMessageContaining("password must be 1..255 bytes, got 256");
    }

    @Test
    void passwordNeverAppearsInLogs() {
        assertThat(new Socks5PasswordAuthRequest("fred", "secret").toString()).doesNotContain("secret").contains("fred");
    }

    @ParameterizedTest
    @EnumSource(ReplyStatus.class)
    void replyCodesMapOneToOneToReplyStatus(ReplyStatus status) {
        Socks5ReplyCode code = Socks5ReplyCode.fromStatus(status);
        assertThat(code.status()).isEqualTo(status);
        assertThat(code.name()).isEqualTo(status.name());
        assertThat(code.byteValue()).isEqualTo((byte) status.ordinal());
    }

    @Test
    void codesPrintNameAndHexAndLookUpByByte() {
        assertThat(Socks5ReplyCode.HOST_UNREACHABLE).hasToString("HOST_UNREACHABLE(0x04)");
        assertThat(Socks5AuthMethod.NO_ACCEPTABLE_METHODS).hasToString("NO_ACCEPTABLE_METHODS(0xff)");
        assertThat(Socks5AuthMethod.fromByte(0xff)).contains(Socks5AuthMethod.NO_ACCEPTABLE_METHODS);
        assertThat(Socks5AuthMethod.fromByte((byte) 0xff)).contains(Socks5AuthMethod.NO_ACCEPTABLE_METHODS);
        assertThat(Socks5AddressType.fromByte(3)).contains(Socks5AddressType.DOMAIN);
        assertThat(Socks5Command.fromByte(3)).contains(Socks5Command.UDP_ASSOCIATE);
        assertThat(Socks5ReplyCode.fromByte(0x2a)).isEmpty();
        assertThat(Socks5ReplyCode.describe(0x2a)).isEqualTo("unknown(0x2a)");
        assertThat(Socks5AuthMethod.describe(0x80)).isEqualTo("unknown(0x80)");
        assertThat(Socks5PasswordAuthStatus.FAILURE).hasToString("FAILURE(0x01)");
    }

    @Test
    void recordsReadWellInLogs() {
        assertThat(new Socks5Greeting(List.of(0x00, 0x80)))
                .hasToString("SOCKS5 greeting offering [NO_AUTHENTICATION(0x00), unknown(0x80)]");
        assertThat(new Socks5Request(Socks5Command.CONNECT, ip("::1", 443)))
                .hasToString("SOCKS5 CONNECT [::1]:443");
        assertThat(new Socks5Reply(Socks5ReplyCode.CONNECTION_REFUSED, null))
                .hasToString("SOCKS5 reply CONNECTION_REFUSED(0x05) bound 0.0.0.0:0");
    }
}
