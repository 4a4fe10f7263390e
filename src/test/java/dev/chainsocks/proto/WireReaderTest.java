package dev.chainsocks.proto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The cursor under the SOCKS codecs: where the caller's buffer is left, byte order, strings. */
class WireReaderTest {

    private static ByteBuffer bytes(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length);
        for (int value : values) {
            buffer.put((byte) value);
        }
        return buffer.flip();
    }

    /** u8, u16, then a length-prefixed string: a miniature of the SOCKS messages. */
    private static final Function<WireReader, String> MESSAGE = r -> {
        int version = r.u8();
        int port = r.u16();
        String name = r.utf8(r.bytes(r.u8()), "name");
        return version + " " + port + " " + name;
    };

    @Test
    void aWholeMessageMovesThePositionByItsLengthOnly() {
        ByteBuffer in = bytes(5, 0x01, 0xbb, 2, 'h', 'i', 0x77, 0x88);
        Decoded<String> decoded = WireReader.decode(in, MESSAGE);
        assertThat(decoded).isEqualTo(new Decoded.Message<>("5 443 hi"));
        assertThat(in.position()).isEqualTo(6);
        assertThat(in.limit()).isEqualTo(8);
    }

    @Test
    void everyTruncationNeedsMoreAndMovesNothing() {
        int[] whole = {5, 0x01, 0xbb, 2, 'h', 'i'};
        for (int length = 0; length < whole.length; length++) {
            int[] part = java.util.Arrays.copyOf(whole, length);
            ByteBuffer in = bytes(part);
            assertThat(WireReader.decode(in, MESSAGE)).as("%d bytes", length).isInstanceOf(Decoded.NeedMore.class);
            assertThat(in.position()).isZero();
        }
    }

    @Test
    void readsFromTheBuffersPositionAndSlice() {
        ByteBuffer backing = bytes(9, 9, 9, 5, 0x01, 0xbb, 1, 'x', 9);
        ByteBuffer in = backing.position(2).slice().position(1);
        assertThat(WireReader.decode(in, MESSAGE)).isEqualTo(new Decoded.Message<>("5 443 x"));
        assertThat(in.position()).isEqualTo(6);
    }

    @Test
    void integersAreBigEndianWhateverTheBufferSays() {
        ByteBuffer in = bytes(0x12, 0x34).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(WireReader.decode(in, WireReader::u16)).isEqualTo(new Decoded.Message<>(0x1234));
        assertThat(in.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void untilNulConsumesTheTerminatorAndCapsTheLength() {
        ByteBuffer in = bytes('a', 'b', 0, 7);
        Decoded<String> decoded = WireReader.decode(in, r -> new String(r.untilNul(2, "id")) + r.u8());
        assertThat(decoded).isEqualTo(new Decoded.Message<>("ab7"));
        assertThat(in.hasRemaining()).isFalse();

        ByteBuffer unterminated = bytes('a', 'b');
        assertThat(WireReader.decode(unterminated, r -> r.untilNul(2, "id"))).isInstanceOf(Decoded.NeedMore.class);
        ByteBuffer tooLong = bytes('a', 'b', 'c', 0);
        Decoded<byte[]> malformed = WireReader.decode(tooLong, r -> r.untilNul(2, "id"));
        assertThat(malformed).isInstanceOf(Decoded.Malformed.class);
        assertThat(((Decoded.Malformed<byte[]>) malformed).reason()).contains("id longer than 2 bytes");
        assertThat(tooLong.position()).isZero();
    }

    @Test
    void restTakesEverythingLeft() {
        ByteBuffer in = bytes(1, 2, 3);
        Decoded<byte[]> decoded = WireReader.decode(in, r -> {
            r.u8();
            return r.rest();
        });
        assertThat(((Decoded.Message<byte[]>) decoded).message()).containsExactly(2, 3);
        assertThat(in.hasRemaining()).isFalse();
    }

    @Test
    void utf8AcceptsAsciiAndValidMultiByteSequences() {
        assertThat(decodeName(bytes('e', 'x', '.', 'c', 'o', 'm'))).isEqualTo(new Decoded.Message<>("ex.com"));
        // "bücher.de" and U+1F600, 4 bytes
        assertThat(decodeName(bytes('b', 0xc3, 0xbc, 'c', 'h', 'e', 'r', '.', 'd', 'e')))
                .isEqualTo(new Decoded.Message<>("b\u00fccher.de"));
        assertThat(decodeName(bytes(0xf0, 0x9f, 0x98, 0x80))).isEqualTo(new Decoded.Message<>("\ud83d\ude00"));
    }

    @Test
    void utf8RejectsWhatIsNotStrictUtf8() {
        int[][] invalid = {
            {0xff},                   // never in UTF-8
            {'a', 0x80},              // a continuation byte alone
            {0xc3},                   // a sequence cut short
            {0xc0, 0xaf},             // overlong '/'
            {0xed, 0xa0, 0x80},       // a UTF-16 surrogate
            {0xf4, 0x90, 0x80, 0x80}, // past U+10FFFF
        };
        for (int[] name : invalid) {
            ByteBuffer in = bytes(name);
            Decoded<String> decoded = decodeName(in);
            assertThat(decoded).as(java.util.Arrays.toString(name)).isInstanceOf(Decoded.Malformed.class);
            assertThat(((Decoded.Malformed<String>) decoded).reason()).isEqualTo("name is not valid UTF-8");
            assertThat(in.position()).isZero();
        }
    }

    private static Decoded<String> decodeName(ByteBuffer in) {
        return WireReader.decode(in, r -> r.utf8(r.rest(), "name"));
    }
}
