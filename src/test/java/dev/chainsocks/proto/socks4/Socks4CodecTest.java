package dev.chainsocks.proto.socks4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.Hex;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Socks4CodecTest {

    static Destination ip(String literal, int port) throws Exception {
        return Destination.ip(InetAddress.getByName(literal), port);
    }

    static Stream<Arguments> requests() throws Exception {
        return Stream.of(
                Arguments.of("CONNECT as Fred (the protocol description's example)",
                        new Socks4Request(Socks4Command.CONNECT, ip("66.102.7.99", 80), "Fred"),
                        "04 01 0050 42660763 'Fred' 00"),
                Arguments.of("BIND, no userid",
                        new Socks4Request(Socks4Command.BIND, ip("10.0.0.1", 8080), ""),
                        "04 02 1f90 0a000001 00"),
                Arguments.of("SOCKS4a name after the userid",
                        new Socks4Request(Socks4Command.CONNECT, Destination.name("example.com", 443), "Fred"),
                        "04 01 01bb 00000001 'Fred' 00 'example.com' 00"),
                Arguments.of("SOCKS4a without userid",
                        new Socks4Request(Socks4Command.CONNECT, Destination.name("a", 1), null),
                        "04 01 0001 00000001 00 'a' 00"));
    }

    static Stream<Arguments> requestsFedEveryWay() throws Exception {
        List<Arguments> rows = new ArrayList<>();
        for (Arguments row : requests().toList()) {
            for (Feeding feeding : Feeding.values()) {
                rows.add(Arguments.of(row.get()[0], row.get()[1], row.get()[2], feeding));
            }
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void encodesRequest(String name, Socks4Request request, String vector) {
        assertThat(Hex.of(Socks4Codec.encodeRequest(request))).isEqualTo(Hex.normalized(vector));
    }

    @ParameterizedTest(name = "{0}, {3}")
    @MethodSource("requestsFedEveryWay")
    void decodesRequest(String name, Socks4Request request, String vector, Feeding feeding) {
        List<Socks4Request> decoded = new ArrayList<>();
        ByteBuffer left = feeding.feed(Hex.bytes(vector), in -> {
            if (Socks4Codec.decodeRequest(in) instanceof Decoded.Message<Socks4Request> m) {
                decoded.add(m.message());
            }
        });
        assertThat(decoded).containsExactly(request);
        assertThat(left.remaining()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void everyTruncatedRequestNeedsMoreAndConsumesNothing(String name, Socks4Request request, String vector) {
        byte[] bytes = Hex.bytes(vector);
        for (int length = 0; length < bytes.length; length++) {
            ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
            assertThat(Socks4Codec.decodeRequest(in)).as("first %d bytes", length).isInstanceOf(Decoded.NeedMore.class);
            assertThat(in.position()).isZero();
        }
    }

    static Stream<Arguments> corruptRequests() {
        return Stream.of(
                Arguments.of("05 01 0050 42660763 00", "SOCKS4 request: unsupported version 0x05"),
                Arguments.of("04 03 0050 42660763 00", "SOCKS4 request: unknown command 0x03"),
                Arguments.of("04 01 0050 42660763 " + "41".repeat(300), "SOCKS4 userid longer than 255 bytes"),
                Arguments.of("04 01 0050 00000001 00 " + "41".repeat(256), "SOCKS4a host name longer than 255 bytes"),
                Arguments.of("04 01 0050 00000001 00 00", "SOCKS4a request: empty host name"),
                Arguments.of("04 01 0050 42660763 c3 28 00", "SOCKS4 userid is not valid UTF-8"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("corruptRequests")
    void rejectsCorruptRequest(String vector, String reason) {
        ByteBuffer in = Hex.buffer(vector);
        Decoded<Socks4Request> decoded = Socks4Codec.decodeRequest(in);
        assertThat(decoded).isInstanceOfSatisfying(Decoded.Malformed.class,
                malformed -> assertThat(malformed.reason()).contains(reason));
        assertThat(in.position()).isZero();
    }

    @Test
    void userIdWithoutNulIsMalformedAfterTheCapNotBufferedForever() {
        byte[] header = Hex.bytes("04 01 0050 42660763");
        ByteBuffer in = ByteBuffer.allocate(header.length + 256).put(header);
        for (int i = 0; i < 255; i++) {
            in.put((byte) 'A');
            assertThat(Socks4Codec.decodeRequest(in.duplicate().flip())).isInstanceOf(Decoded.NeedMore.class);
        }
        in.put((byte) 'A');
        assertThat(Socks4Codec.decodeRequest(in.flip())).isInstanceOf(Decoded.Malformed.class);
    }

    @Test
    void userIdOfExactly255BytesIsAccepted() throws Exception {
        String userId = "u".repeat(255);
        ByteBuffer encoded = Socks4Codec.encodeRequest(new Socks4Request(Socks4Command.CONNECT, ip("1.2.3.4", 1), userId));
        assertThat(Socks4Codec.decodeRequest(encoded)).isInstanceOfSatisfying(Decoded.Message.class,
                m -> assertThat(((Socks4Request) m.message()).userId()).isEqualTo(userId));
    }

    @Test
    void refusesToEncodeWhatTheWireCannotCarry() throws Exception {
        assertThatThrownBy(() -> new Socks4Request(Socks4Command.CONNECT, ip("::1", 80), ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("IPv6");
        assertThatThrownBy(() -> new Socks4Request(Socks4Command.CONNECT, ip("1.2.3.4", 80), "a\0b"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NUL");
        assertThatThrownBy(() -> new Socks4Request(Socks4Command.CONNECT, ip("1.2.3.4", 80), "x".repeat(256)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("256 bytes");
        assertThatThrownBy(() -> new Socks4Request(Socks4Command.CONNECT, ip("0.0.0.7", 80), ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SOCKS4a");
    }

    static Stream<Arguments> replies() throws Exception {
        return Stream.of(
                Arguments.of("00 5a 0000 00000000", new Socks4Reply(Socks4ReplyCode.GRANTED, null)),
                Arguments.of("00 5a 1f90 c0a80001",
                        new Socks4Reply(Socks4ReplyCode.GRANTED, (Destination.Ip) ip("192.168.0.1", 8080))),
                Arguments.of("00 5b 0000 00000000", new Socks4Reply(Socks4ReplyCode.REJECTED, null)),
                Arguments.of("00 5c 0000 00000000", new Socks4Reply(Socks4ReplyCode.IDENTD_UNREACHABLE, null)),
                Arguments.of("00 5d 0000 00000000", new Socks4Reply(Socks4ReplyCode.IDENTD_USER_MISMATCH, null)));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("replies")
    void encodesAndDecodesReply(String vector, Socks4Reply reply) {
        assertThat(Hex.of(Socks4Codec.encodeReply(reply))).isEqualTo(Hex.normalized(vector));
        ByteBuffer in = Hex.buffer(vector + " 'early'");
        assertThat(Socks4Codec.decodeReply(in)).isEqualTo(new Decoded.Message<>(reply));
        assertThat(in.remaining()).isEqualTo(5);
    }

    @Test
    void rejectsCorruptReplies() {
        assertThat(Socks4Codec.decodeReply(Hex.buffer("04 5a 0000 00000000")))
                .hasToString("malformed: SOCKS4 reply: version 0x04, expected 0x00");
        assertThat(Socks4Codec.decodeReply(Hex.buffer("00 2a 0000 00000000")))
                .hasToString("malformed: SOCKS4 reply: unknown reply code 0x2a");
    }

    @Test
    void codesPrintNameAndHexAndLookUpByByte() {
        assertThat(Socks4ReplyCode.REJECTED).hasToString("REJECTED(0x5b)");
        assertThat(Socks4Command.BIND).hasToString("BIND(0x02)");
        assertThat(Socks4ReplyCode.fromByte(0x5a)).contains(Socks4ReplyCode.GRANTED);
        assertThat(Socks4ReplyCode.fromByte((byte) 0x5d)).contains(Socks4ReplyCode.IDENTD_USER_MISMATCH);
        assertThat(Socks4ReplyCode.fromByte(0x2a)).isEmpty();
        assertThat(Socks4ReplyCode.describe(0x2a)).isEqualTo("unknown(0x2a)");
        assertThat(Socks4Command.fromByte(3)).isEmpty();
    }

    @Test
    void recordsReadWellInLogs() throws Exception {
        assertThat(new Socks4Request(Socks4Command.CONNECT, ip("66.102.7.99", 80), "Fred"))
                .hasToString("SOCKS4 CONNECT 66.102.7.99:80 userid Fred");
        assertThat(new Socks4Request(Socks4Command.CONNECT, Destination.name("example.com", 80), ""))
                .hasToString("SOCKS4a CONNECT example.com:80");
        assertThat(new Socks4Reply(Socks4ReplyCode.GRANTED, null)).hasToString("SOCKS4 reply GRANTED(0x5a) bound 0.0.0.0:0");
    }
}
