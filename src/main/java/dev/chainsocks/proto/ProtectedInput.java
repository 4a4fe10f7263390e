package dev.chainsocks.proto;

import java.nio.ByteBuffer;

/**
 * The receiving half of a protected stream during a handshake: unprotects whole messages from the wire, one at a
 * time and only when the handshake needs more, and keeps their plaintext for the handshake to decode from. What
 * the handshake leaves unread is {@link #plaintext()} at its end: early data for the relay.
 */
public final class ProtectedInput {

    private final StreamProtection protection;
    private ByteBuffer plaintext;
    private String failure;

    /** {@code carried}: plaintext already unprotected (by an earlier handshake), in read mode; may be empty. */
    public ProtectedInput(StreamProtection protection, ByteBuffer carried) {
        this.protection = protection;
        this.plaintext = carried;
    }

    /** Plaintext not yet consumed, in read mode; the handshake decodes from it (advancing it). */
    public ByteBuffer plaintext() {
        return plaintext;
    }

    /**
     * Unprotects the next whole message from {@code wire} and adds its plaintext after what is left; true when it
     * did. False when no message is complete yet, or when the message was refused: then {@link #failure()} says
     * why, naming the protection, and every later call is false.
     */
    public boolean readMessage(ByteBuffer wire) {
        if (failure != null) {
            return false;
        }
        Decoded<ByteBuffer> decoded = protection.unprotect(wire);
        if (decoded instanceof Decoded.Malformed<ByteBuffer> malformed) {
            failure = protection.name() + ": " + malformed.reason();
            return false;
        }
        if (!(decoded instanceof Decoded.Message<ByteBuffer> message)) {
            return false;
        }
        ByteBuffer added = message.message();
        ByteBuffer joined = ByteBuffer.allocate(plaintext.remaining() + added.remaining());
        plaintext = joined.put(plaintext).put(added).flip();
        return true;
    }

    /** Why a message was refused, or null. */
    public String failure() {
        return failure;
    }

    /** The protection and the plaintext left, for whatever runs next on the stream. */
    public ProtectedStream leftover() {
        return new ProtectedStream(protection, plaintext);
    }
}
