package dev.chainsocks.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.fuzz.FuzzInput;
import dev.chainsocks.fuzz.Reads;
import dev.chainsocks.proto.socks5.Socks5Codec;
import dev.chainsocks.proto.socks5.Socks5ServerHandshake;
import java.nio.ByteBuffer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The fuzz tests' oracle must catch what it promises to catch: each case here is a deliberately broken decoder or
 * handshake that {@link WireProperties} has to reject, next to the real codec that it has to accept.
 */
class WirePropertiesTest {

    static final byte[] REQUEST = Hex.bytes("05 01 00 01 42660763 0050");

    /** A decoder of one-byte messages {@code 2a}. */
    static Decoded<Byte> oneByte(ByteBuffer in) {
        if (!in.hasRemaining()) {
            return new Decoded.NeedMore<>();
        }
        if (in.get(in.position()) != 0x2a) {
            return new Decoded.Malformed<>("not 0x2a", ReplyStatus.GENERAL_FAILURE);
        }
        return new Decoded.Message<>(in.get());
    }

    static ByteBuffer encodeOneByte(Byte b) {
        return ByteBuffer.wrap(new byte[] {b});
    }

    @Test
    void theRealCodecKeepsEveryPromiseWholeAndCut() {
        for (int cut = 0; cut <= REQUEST.length; cut++) {
            Decoded<?> decoded = WireProperties.decoder(Reads.of(REQUEST, cut, cut + 3), 262,
                    Socks5Codec::decodeRequest, Socks5Codec::encodeRequest);
            assertThat(decoded).isInstanceOf(Decoded.Message.class);
        }
    }

    @Test
    void readsComeFromTheTrailer() {
        // Trailer, read from the end: 02 cuts, then 0001 (cut at 1, low byte first), then 0003 (cut at 3).
        byte[] input = Hex.bytes("05 01 00 01 42660763 0050  03 00  01 00  02");
        Reads reads = FuzzInput.of(input).reads();
        assertThat(Hex.of(reads.message())).isEqualTo(Hex.of(REQUEST));
        assertThat(reads.cuts()).containsExactly(1, 3);
        assertThat(reads.chunks()).hasSize(3);
    }

    @Test
    void catchesABufferMovedWithoutAMessage() {
        Function<ByteBuffer, Decoded<Byte>> sloppy = in -> {
            in.position(in.limit());
            return new Decoded.NeedMore<>();
        };
        assertThatThrownBy(() -> WireProperties.decoder(Reads.of(new byte[3]), 10, sloppy,
                WirePropertiesTest::encodeOneByte))
                .isInstanceOf(AssertionError.class).hasMessageContaining("moved the position");
    }

    @Test
    void catchesWaitingPastTheCap() {
        Function<ByteBuffer, Decoded<Byte>> patient = in -> new Decoded.NeedMore<>();
        assertThatThrownBy(() -> WireProperties.decoder(Reads.of(new byte[10]), 10, patient,
                WirePropertiesTest::encodeOneByte))
                .isInstanceOf(AssertionError.class).hasMessageContaining("still needs more after 10 bytes");
    }

    @Test
    void catchesADecoderThatDependsOnHowTheBytesWereCut() {
        // Takes whatever is there as one message: two reads give a different first message than one.
        Function<ByteBuffer, Decoded<Integer>> greedy = in -> {
            int n = in.remaining();
            in.position(in.limit());
            return n == 0 ? new Decoded.NeedMore<>() : new Decoded.Message<>(n);
        };
        assertThatThrownBy(() -> WireProperties.decoder(Reads.of(new byte[4], 2), 10, greedy,
                n -> ByteBuffer.allocate(n)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("cut into reads");
    }

    @Test
    void catchesAnEncoderThatIsNotTheDecodersInverse() {
        assertThatThrownBy(() -> WireProperties.decoder(Reads.of(new byte[] {0x2a}), 1,
                WirePropertiesTest::oneByte, b -> ByteBuffer.wrap(new byte[] {0x2b})))
                .isInstanceOf(AssertionError.class).hasMessageContaining("round trip");
    }

    @Test
    void catchesAHandshakeThatKeepsConsumingAfterItsOutcome() {
        ServerHandshake greedy = new ServerHandshake() {
            private final Socks5ServerHandshake real = new Socks5ServerHandshake(Authenticator.NONE);

            @Override
            public void receive(ByteBuffer in) {
                real.receive(in);
                if (real.outcome() != null && in.hasRemaining()) {
                    in.get();
                }
            }

            @Override
            public ByteBuffer outbound() {
                return real.outbound();
            }

            @Override
            public ServerOutcome outcome() {
                return real.outcome();
            }

            @Override
            public void reply(ReplyStatus status, Destination bound) {
                real.reply(status, bound);
            }
        };
        byte[] bytes = Hex.bytes("05 01 00  05 01 00 01 42660763 0050  'early data'");
        assertThatThrownBy(() -> WireProperties.server(Reads.of(bytes), 513, () -> greedy))
                .isInstanceOf(AssertionError.class).hasMessageContaining("receiving no new bytes changed");
    }
}
