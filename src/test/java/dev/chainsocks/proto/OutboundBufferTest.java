package dev.chainsocks.proto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** What a driver sees of {@link OutboundBuffer}: queued bytes in order, whatever it managed to send in between. */
class OutboundBufferTest {

    private final OutboundBuffer outbound = new OutboundBuffer();

    private static ByteBuffer bytes(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length);
        for (int value : values) {
            buffer.put((byte) value);
        }
        return buffer.flip();
    }

    /** What a partial write would do: takes {@code n} bytes off the front. */
    private void send(int n) {
        ByteBuffer buffer = outbound.buffer();
        buffer.position(buffer.position() + n);
    }

    @Test
    void startsEmpty() {
        assertThat(outbound.buffer().hasRemaining()).isFalse();
    }

    @Test
    void appendLeavesTheCallersPositionAlone() {
        ByteBuffer message = bytes(1, 2, 3, 4);
        message.get();
        outbound.append(message);
        assertThat(message.position()).isEqualTo(1);
        assertThat(outbound.buffer()).isEqualTo(bytes(2, 3, 4));
        send(3);
        assertThat(message.position()).as("sending does not move the caller's buffer").isEqualTo(1);
    }

    @Test
    void messagesQueueInOrder() {
        outbound.append(bytes(1, 2));
        outbound.append(bytes(3));
        outbound.append(bytes(4, 5));
        assertThat(outbound.buffer()).isEqualTo(bytes(1, 2, 3, 4, 5));
    }

    @Test
    void aPartialWriteKeepsTheRestAheadOfWhatComesNext() {
        outbound.append(bytes(1, 2, 3));
        send(2);
        outbound.append(bytes(4, 5));
        assertThat(outbound.buffer()).isEqualTo(bytes(3, 4, 5));
        send(1);
        assertThat(outbound.buffer()).isEqualTo(bytes(4, 5));
    }

    @Test
    void afterEverythingWasSentTheNextMessageStandsAlone() {
        outbound.append(bytes(1, 2));
        send(2);
        outbound.append(bytes(3));
        assertThat(outbound.buffer()).isEqualTo(bytes(3));
        send(1);
        assertThat(outbound.buffer().hasRemaining()).isFalse();
    }

    @Test
    void anEmptyAppendChangesNothing() {
        outbound.append(bytes(1));
        outbound.append(bytes());
        assertThat(outbound.buffer()).isEqualTo(bytes(1));
    }

    @Test
    void aReadOnlyMessageIsSentAsItIs() {
        outbound.append(bytes(7, 8).asReadOnlyBuffer());
        outbound.append(bytes(9));
        assertThat(outbound.buffer()).isEqualTo(bytes(7, 8, 9));
    }
}
