package dev.chainsocks.proto;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * What a handshake that agreed per-message protection leaves behind: the protection everything after it travels
 * in, and plaintext it already unprotected past its own last message (early data, or a client's pipelined bytes),
 * in read mode, possibly empty.
 */
public record ProtectedStream(StreamProtection protection, ByteBuffer plaintext) {

    public ProtectedStream {
        Objects.requireNonNull(protection, "protection");
        Objects.requireNonNull(plaintext, "plaintext");
    }
}
