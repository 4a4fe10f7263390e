package dev.chainsocks.proto;

import java.nio.ByteBuffer;

/**
 * Per-message protection of a byte stream that a proxy method agreed for everything after its handshake (RFC 1961
 * section 5: GSS-API integrity or confidentiality): one side cuts its bytes into messages and protects each, the
 * other verifies and unprotects them. Sans-I/O and per connection (it holds the peer's sequence state); calls never
 * block, so the event loop that owns the connection makes them.
 */
public interface StreamProtection {

    /** The most plaintext bytes one message carries. */
    int maxPlaintext();

    /** The most bytes one protected message takes on the wire: a reader must be able to hold that many at once. */
    int maxMessageSize();

    /**
     * Protects the next at most {@link #maxPlaintext()} bytes of {@code plaintext} (advancing it by what it took)
     * as one message, and returns that message's wire bytes in read mode.
     */
    ByteBuffer protect(ByteBuffer plaintext) throws ProtectionException;

    /**
     * Reads the next whole message from {@code wire} and returns its plaintext in read mode, keeping the
     * {@link Decoded} contract: {@link Decoded.NeedMore} and {@link Decoded.Malformed} leave {@code wire} as it was.
     * Malformed covers framing that is not this protocol and a message that fails verification (tampered, replayed,
     * out of order, or weaker than agreed).
     */
    Decoded<ByteBuffer> unprotect(ByteBuffer wire);

    /** Releases the keys; nothing is called after. Never throws. */
    void dispose();

    /** A short name for logs: {@code gssapi-integrity}. */
    String name();
}
