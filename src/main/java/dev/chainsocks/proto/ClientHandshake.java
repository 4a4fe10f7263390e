package dev.chainsocks.proto;

import java.nio.ByteBuffer;

/**
 * The client side of one proxy handshake (SOCKS4, SOCKS4a, SOCKS5, HTTP CONNECT), as a state machine with no I/O.
 *
 * <p>The driver loop is: send {@link #outbound()} until it is empty; read from the proxy into a buffer; call
 * {@link #receive(ByteBuffer)}; repeat until {@link #outcome()} is not null. A new handshake already has its first
 * message in {@link #outbound()}. {@code receive} consumes only bytes that belong to the handshake: whatever the
 * proxy sent after its final reply (early data from the destination) stays in the buffer for the relay.
 */
public interface ClientHandshake {

    /** Consumes handshake bytes from {@code in} (a buffer in read mode); never reads past the final reply. */
    void receive(ByteBuffer in);

    /** Bytes to send to the proxy, in read mode; empty when there is nothing to send. The caller drains it. */
    ByteBuffer outbound();

    /** Null while the handshake needs more bytes; then the final result, which never changes again. */
    HandshakeOutcome outcome();

    /**
     * Work the handshake now waits for that may block (a GSS-API call), handed out once; null when there is none.
     * The driver runs it off the loop, calls {@link BlockingStep#complete()} on the loop, then sends
     * {@link #outbound()} and asks again. Only SOCKS5 with GSS-API ever has one.
     */
    default BlockingStep<?> takeBlockingStep() {
        return null;
    }

    /**
     * Once {@link #outcome()} is granted: the per-message protection this handshake agreed for everything after it
     * on the connection (SOCKS5 GSS-API with integrity or confidentiality), with the plaintext it already
     * unprotected; null when what follows travels as it is. Then the driver must run the next hops' handshakes and
     * the relay through it.
     */
    default ProtectedStream protectedStream() {
        return null;
    }

    /** What this handshake asks for, for logs and errors: "socks5 CONNECT example.com:443". */
    @Override
    String toString();
}
