package dev.chainsocks.proto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The ways bytes reach a handshake: all in one read, one byte per read, or in one read followed by data that
 * belongs to the relay ("early data", which must stay unconsumed). Each mode behaves like a driver that reads into
 * a buffer, calls receive, and compacts.
 */
public enum Feeding {
    WHOLE,
    BYTE_BY_BYTE,
    WITH_EARLY_DATA;

    public static final byte[] EARLY_DATA = Hex.bytes("'early data from the peer' 00 ff");

    /**
     * Feeds {@code bytes} to {@code receiver} and returns what it left unconsumed, minus the early data this mode
     * appended (which is asserted to be left untouched).
     */
    public ByteBuffer feed(byte[] bytes, Consumer<ByteBuffer> receiver) {
        ByteBuffer buffer = ByteBuffer.allocate(bytes.length + EARLY_DATA.length);
        switch (this) {
            case WHOLE -> {
                buffer.put(bytes).flip();
                receiver.accept(buffer);
                return buffer;
            }
            case BYTE_BY_BYTE -> {
                for (byte b : bytes) {
                    buffer.put(b).flip();
                    receiver.accept(buffer);
                    buffer.compact();
                }
                return buffer.flip();
            }
            case WITH_EARLY_DATA -> {
                buffer.put(bytes).put(EARLY_DATA).flip();
                receiver.accept(buffer);
                assertThat(buffer.remaining())
                        .as("early data after the handshake must stay in the buffer")
                        .isGreaterThanOrEqualTo(EARLY_DATA.length);
                ByteBuffer tail = buffer.duplicate().position(buffer.limit() - EARLY_DATA.length);
                assertThat(Hex.of(tail)).isEqualTo(Hex.of(EARLY_DATA));
                return buffer.duplicate().limit(buffer.limit() - EARLY_DATA.length);
            }
            default -> throw new AssertionError(this);
        }
    }
}
