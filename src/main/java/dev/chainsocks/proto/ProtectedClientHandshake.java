package dev.chainsocks.proto;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Runs a client handshake inside a stream protected by an earlier hop (RFC 1961 section 5: once a GSS-API hop
 * agreed integrity or confidentiality, every later hop's handshake travels in its protected messages): what the
 * inner handshake sends is protected, what arrives is verified and unprotected before the inner handshake sees it.
 * A message that fails verification ends the handshake with a {@link HandshakeOutcome.ProtocolError} naming the
 * protection.
 */
public final class ProtectedClientHandshake implements ClientHandshake {

    private final ClientHandshake inner;
    private final StreamProtection protection;
    private final ProtectedInput input;
    private final OutboundBuffer outbound = new OutboundBuffer();
    private HandshakeOutcome failure;

    /** {@code carried}: plaintext the earlier hop already unprotected past its own reply, in read mode. */
    public ProtectedClientHandshake(ClientHandshake inner, StreamProtection protection, ByteBuffer carried) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.protection = Objects.requireNonNull(protection, "protection");
        this.input = new ProtectedInput(protection, carried);
    }

    @Override
    public void receive(ByteBuffer wire) {
        while (outcome() == null) {
            ByteBuffer plaintext = input.plaintext();
            if (plaintext.hasRemaining()) {
                inner.receive(plaintext);
                if (inner.outcome() != null) {
                    return;
                }
            }
            if (!input.readMessage(wire)) {
                if (input.failure() != null) {
                    failure = new HandshakeOutcome.ProtocolError(input.failure());
                }
                return;
            }
        }
    }

    @Override
    public ByteBuffer outbound() {
        ByteBuffer plaintext = inner.outbound();
        try {
            while (plaintext.hasRemaining() && failure == null) {
                outbound.append(protection.protect(plaintext));
            }
        } catch (ProtectionException e) {
            failure = new HandshakeOutcome.ProtocolError(protection.name() + ": " + e.getMessage());
        }
        return outbound.buffer();
    }

    @Override
    public HandshakeOutcome outcome() {
        return failure != null ? failure : inner.outcome();
    }

    @Override
    public BlockingStep<?> takeBlockingStep() {
        return failure != null ? null : inner.takeBlockingStep();
    }

    /**
     * Once granted: this protection with the plaintext the inner handshake left unread. An inner handshake that
     * agreed a protection of its own would need a second layer, which is not supported: see
     * {@link #innerProtection()}.
     */
    @Override
    public ProtectedStream protectedStream() {
        return outcome() instanceof HandshakeOutcome.Granted ? input.leftover() : null;
    }

    /** The protection the inner handshake agreed for what follows it, if it did (a second layer), else null. */
    public ProtectedStream innerProtection() {
        return inner.protectedStream();
    }

    @Override
    public String toString() {
        return inner + " inside " + protection.name();
    }
}
