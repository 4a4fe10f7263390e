package dev.chainsocks.proto.ident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.Hex;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class IdentCodecTest {

    static final IdentQuery PAIR = new IdentQuery(6193, 23);

    /** What the codec writes, which it also reads back. */
    static Stream<Arguments> responses() {
        return Stream.of(
                Arguments.of("USERID as RFC 1413's example",
                        new IdentResponse.UserId(PAIR, "UNIX", null, "stjohns"),
                        "'6193 , 23 : USERID : UNIX : stjohns' 0d 0a"),
                Arguments.of("USERID with a charset and a UTF-8 name",
                        new IdentResponse.UserId(PAIR, "UNIX", "UTF-8", "j\u00fcrgen"),
                        "'6193 , 23 : USERID : UNIX , UTF-8 : j' c3 bc 'rgen' 0d 0a"),
                Arguments.of("USERID with inner and trailing spaces kept",
                        new IdentResponse.UserId(PAIR, "OTHER", null, "a b "),
                        "'6193 , 23 : USERID : OTHER : a b ' 0d 0a"),
                Arguments.of("USERID of 512 bytes, the most a server sends",
                        new IdentResponse.UserId(PAIR, "UNIX", null, "u".repeat(512)),
                        "'6193 , 23 : USERID : UNIX : " + "u".repeat(512) + "' 0d 0a"),
                Arguments.of("a quoted colon in the opsys token",
                        new IdentResponse.UserId(PAIR, "X:Y", null, "root"),
                        "'6193 , 23 : USERID : X' 5c ':Y : root' 0d 0a"),
                Arguments.of("ERROR NO-USER",
                        new IdentResponse.Error(PAIR, IdentErrorType.NO_USER),
                        "'6193 , 23 : ERROR : NO-USER' 0d 0a"),
                Arguments.of("ERROR with a server's own X token",
                        new IdentResponse.Error(new IdentQuery(65535, 1), "X-RATE-LIMITED"),
                        "'65535 , 1 : ERROR : X-RATE-LIMITED' 0d 0a"));
    }

    static Stream<Arguments> responsesFedEveryWay() {
        List<Arguments> rows = new ArrayList<>();
        for (Arguments row : responses().toList()) {
            for (Feeding feeding : Feeding.values()) {
                rows.add(Arguments.of(row.get()[0], row.get()[1], row.get()[2], feeding));
            }
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("responses")
    void encodesResponse(String name, IdentResponse response, String vector) {
        assertThat(Hex.of(IdentCodec.encodeResponse(response))).isEqualTo(Hex.normalized(vector));
    }

    @ParameterizedTest(name = "{0}, {3}")
    @MethodSource("responsesFedEveryWay")
    void decodesResponse(String name, IdentResponse response, String vector, Feeding feeding) {
        assertThat(decodeAll(vector, feeding, IdentCodec::decodeResponse)).containsExactly(response);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("responses")
    void everyTruncatedResponseNeedsMoreAndConsumesNothing(String name, IdentResponse response, String vector) {
        byte[] bytes = Hex.bytes(vector);
        for (int length = 0; length < bytes.length; length++) {
            ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
            assertThat(IdentCodec.decodeResponse(in)).as("first %d bytes", length)
                    .isInstanceOf(Decoded.NeedMore.class);
            assertThat(in.position()).isZero();
        }
    }

    /** What other servers send, which the RFC asks a reader to accept. */
    static Stream<Arguments> liberalResponses() {
        return Stream.of(
                Arguments.of("'6193, 23 : USERID : UNIX : stjohns' 0d 0a",
                        new IdentResponse.UserId(PAIR, "UNIX", null, "stjohns")),
                Arguments.of("'6193,23:USERID:UNIX:stjohns' 0d 0a",
                        new IdentResponse.UserId(PAIR, "UNIX", null, "stjohns")),
                Arguments.of("'  6193' 09 ', 23 :USERID' 09 ':UNIX,US-ASCII:' 09 '  stjohns' 0d 0a",
                        new IdentResponse.UserId(PAIR, "UNIX", "US-ASCII", "stjohns")),
                Arguments.of("'6193 , 23 : USERID : UNIX : stjohns' 0a",
                        new IdentResponse.UserId(PAIR, "UNIX", null, "stjohns")),
                Arguments.of("'6193 , 23 : USERID : UNIX , ISO-8859-1 : j' fc 'rgen' 0d 0a",
                        new IdentResponse.UserId(PAIR, "UNIX", "ISO-8859-1", "j\u00fcrgen")),
                Arguments.of("'6193 , 23 : USERID : UNIX : a:b,c' 0d 0a",
                        new IdentResponse.UserId(PAIR, "UNIX", null, "a:b,c")),
                Arguments.of("' 6193 , 23 : ERROR : HIDDEN-USER ' 09 0d 0a",
                        new IdentResponse.Error(PAIR, IdentErrorType.HIDDEN_USER)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("liberalResponses")
    void readsWhatRfc1413AsksReadersToAccept(String vector, IdentResponse expected) {
        ByteBuffer in = Hex.buffer(vector + " 'next'");
        assertThat(IdentCodec.decodeResponse(in)).isEqualTo(new Decoded.Message<>(expected));
        assertThat(in.remaining()).as("only the line is consumed").isEqualTo(4);
    }

    static Stream<Arguments> corruptResponses() {
        return Stream.of(
                Arguments.of("'6193 , 23 : USERID : UNIX :' 0d 0a", "empty user id"),
                Arguments.of("'6193 , 23 : USERID : UNIX :   ' 0d 0a", "empty user id"),
                Arguments.of("'6193 , 23 : USERID : UNIX : a' 00 'b' 0d 0a", "user id contains 0x00"),
                Arguments.of("'6193 , 23 : USERID : UNIX : a' 0d 'b' 0d 0a", "user id contains 0x0d"),
                Arguments.of("'6193 , 23 : USERID : UNIX : j' c3 bc 'rgen' 0d 0a", "user id is not valid US-ASCII"),
                Arguments.of("'6193 , 23 : USERID : UNIX , UTF-8 : ' c3 28 0d 0a", "user id is not valid UTF-8"),
                Arguments.of("'6193 , 23 : USERID : UNIX , NO-SUCH-SET : a' 0d 0a",
                        "charset \"NO-SUCH-SET\" is not known here"),
                Arguments.of("'6193 , 23 : USERID : ' 0d 0a", "opsys expected"),
                Arguments.of("'6193 , 23 : USERID : " + "U".repeat(65) + " : a' 0d 0a", "opsys longer than 64"),
                Arguments.of("'6193 , 23 : USERID UNIX : a' 0d 0a", "expected ':'"),
                Arguments.of("'6193 , 23 : HELLO : UNIX : a' 0d 0a", "type \"HELLO\" is neither USERID nor ERROR"),
                Arguments.of("'6193 , 23 : ERROR : NO-USER extra' 0d 0a", "unexpected 0x65"),
                Arguments.of("'6193 , 23 : ERROR :' 0d 0a", "error type expected"),
                Arguments.of("'6193 23 : ERROR : NO-USER' 0d 0a", "expected ','"),
                Arguments.of("'0 , 23 : ERROR : NO-USER' 0d 0a", "0 is not 1..65535"),
                Arguments.of("'65536 , 23 : ERROR : NO-USER' 0d 0a", "65536 is not 1..65535"),
                Arguments.of("'006193 , 23 : ERROR : NO-USER' 0d 0a", "more than 5 digits"),
                Arguments.of("': USERID : UNIX : a' 0d 0a", "port on the identd host expected"),
                Arguments.of("0d 0a", "port on the identd host expected"),
                Arguments.of("'6193 , 23 : USERID : UNIX : " + "a".repeat(1000) + "'",
                        "no end of line within 1000 bytes"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("corruptResponses")
    void rejectsCorruptResponse(String vector, String reason) {
        ByteBuffer in = Hex.buffer(vector);
        assertThat(IdentCodec.decodeResponse(in)).isInstanceOfSatisfying(Decoded.Malformed.class,
                malformed -> assertThat(malformed.reason()).startsWith("ident response: ").contains(reason));
        assertThat(in.position()).isZero();
    }

    @Test
    void aLineWithoutEndIsBufferedOnlyUpToTheCap() {
        ByteBuffer in = ByteBuffer.allocate(IdentCodec.MAX_LINE);
        for (int i = 0; i < IdentCodec.MAX_LINE - 1; i++) {
            in.put((byte) 'a');
            assertThat(IdentCodec.decodeResponse(in.duplicate().flip())).isInstanceOf(Decoded.NeedMore.class);
        }
        in.put((byte) 'a');
        assertThat(IdentCodec.decodeResponse(in.flip())).isInstanceOf(Decoded.Malformed.class);
    }

    static Stream<Arguments> queries() {
        return Stream.of(
                Arguments.of("'6193 , 23' 0d 0a", PAIR, true),
                Arguments.of("'65535 , 1' 0d 0a", new IdentQuery(65535, 1), true),
                Arguments.of("'6193,23' 0d 0a", PAIR, false),
                Arguments.of("09 ' 6193 ,' 09 '23  ' 0a", PAIR, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("queries")
    void readsAndWritesQueries(String vector, IdentQuery query, boolean canonical) {
        if (canonical) {
            assertThat(Hex.of(IdentCodec.encodeQuery(query))).isEqualTo(Hex.normalized(vector));
        }
        for (Feeding feeding : Feeding.values()) {
            assertThat(decodeAll(vector, feeding, IdentCodec::decodeQuery)).as("%s", feeding).containsExactly(query);
        }
        byte[] bytes = Hex.bytes(vector);
        for (int length = 0; length < bytes.length; length++) {
            assertThat(IdentCodec.decodeQuery(ByteBuffer.wrap(bytes, 0, length))).as("first %d bytes", length)
                    .isInstanceOf(Decoded.NeedMore.class);
        }
    }

    @Test
    void rejectsCorruptQueries() {
        assertThat(IdentCodec.decodeQuery(Hex.buffer("'6193 , 23 , 1' 0d 0a")))
                .hasToString("malformed: ident query: unexpected 0x2c at byte 10");
        assertThat(IdentCodec.decodeQuery(Hex.buffer("'6193 ; 23' 0d 0a")))
                .hasToString("malformed: ident query: expected ',' at byte 5, found 0x3b");
        assertThat(IdentCodec.decodeQuery(Hex.buffer("'6193 , 0' 0d 0a")))
                .hasToString("malformed: ident query: port on the asking host 0 is not 1..65535");
    }

    @Test
    void refusesToWriteWhatTheWireCannotCarry() {
        assertThatThrownBy(() -> new IdentQuery(0, 23)).hasMessageContaining("1..65535");
        assertThatThrownBy(() -> new IdentResponse.UserId(PAIR, "UNIX", null, ""))
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> new IdentResponse.UserId(PAIR, "UNIX", null, " alice"))
                .hasMessageContaining("white space");
        assertThatThrownBy(() -> new IdentResponse.UserId(PAIR, "UNIX", null, "a\r\nb"))
                .hasMessageContaining("CR or LF");
        assertThatThrownBy(() -> new IdentResponse.UserId(PAIR, "U".repeat(65), null, "a"))
                .hasMessageContaining("1..64");
        assertThatThrownBy(() -> IdentCodec.encodeResponse(new IdentResponse.UserId(PAIR, "UNIX", null,
                "u".repeat(513)))).hasMessageContaining("513 bytes");
        assertThatThrownBy(() -> IdentCodec.encodeResponse(new IdentResponse.UserId(PAIR, "UNIX", "NO-SUCH-SET",
                "a"))).hasMessageContaining("not known");
    }

    @Test
    void errorTypesAndResponsesReadWell() {
        assertThat(IdentErrorType.fromToken("NO-USER")).contains(IdentErrorType.NO_USER);
        assertThat(IdentErrorType.fromToken("X-OWN")).isEmpty();
        assertThat(new IdentResponse.Error(PAIR, "X-OWN").standardType()).isEmpty();
        assertThat(new IdentResponse.Error(PAIR, IdentErrorType.INVALID_PORT)).hasToString("ERROR INVALID-PORT");
        assertThat(new IdentResponse.UserId(PAIR, "UNIX", "UTF-8", "alice")).hasToString("USERID UNIX,UTF-8 alice");
        assertThat(PAIR).hasToString("6193 , 23");
    }

    private static <T> List<T> decodeAll(String vector, Feeding feeding, Function<ByteBuffer, Decoded<T>> decoder) {
        List<T> decoded = new ArrayList<>();
        ByteBuffer left = feeding.feed(Hex.bytes(vector), in -> {
            if (decoded.isEmpty() && decoder.apply(in) instanceof Decoded.Message<T> message) {
                decoded.add(message.message());
            }
        });
        assertThat(left.remaining()).isZero();
        return decoded;
    }
}
