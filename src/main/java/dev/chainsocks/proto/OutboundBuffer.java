package dev.chainsocks.proto;

import java.nio.ByteBuffer;

/**
 * The bytes a handshake has produced and the driver has not sent yet. {@link #buffer()} is handed out as is: the
 * driver drains it (a channel write advances its position), and {@link #append} keeps what is still unsent.
 */
public final class OutboundBuffer {

    private ByteBuffer pending = ByteBuffer.allocate(0);

    /**
     * Queues the remaining bytes of {@code bytes} (its position is not moved). A message is handed over, not lent:
     * when nothing else is waiting it is sent from where it is, without a copy, so the caller must not change its
     * content afterwards (the codecs append freshly encoded messages and drop them).
     */
    public void append(ByteBuffer bytes) {
        if (!pending.hasRemaining()) {
            pending = bytes.slice();
            return;
        }
        ByteBuffer joined = ByteBuffer.allocate(pending.remaining() + bytes.remaining());
        joined.put(pending.duplicate()).put(bytes.duplicate()).flip();
        pending = joined;
    }

    /** Unsent bytes in read mode; empty when everything was sent. */
    public ByteBuffer buffer() {
        return pending;
    }

    @Override
    public String toString() {
        return pending.remaining() + " bytes to send";
    }
}
