package dev.chainsocks.proto;

import java.util.Objects;

/** How a client handshake ended. */
public sealed interface HandshakeOutcome {

    /** The proxy granted the request; {@code bound} is the address it reported (may be 0.0.0.0:0 or a name). */
    record Granted(Destination bound) implements HandshakeOutcome {
        @Override
        public String toString() {
            return "granted, bound " + bound;
        }
    }

    /**
     * The proxy answered with a well-formed refusal. {@code code} is the protocol's own name for the reply,
     * e.g. "CONNECTION_REFUSED(0x05)", "REJECTED(0x5b)" or "HTTP 403 Forbidden".
     */
    record Refused(ReplyStatus status, String code) implements HandshakeOutcome {
        public Refused {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(code, "code");
        }

        @Override
        public String toString() {
            return "refused " + code;
        }
    }

    /** The proxy sent something that is not the protocol; {@code reason} names the offending byte in hex. */
    record ProtocolError(String reason) implements HandshakeOutcome {
        @Override
        public String toString() {
            return "protocol error: " + reason;
        }
    }

    /** Authentication was required and the proxy rejected ours (or offered no method we can do). */
    record AuthenticationFailed(String reason) implements HandshakeOutcome {
        @Override
        public String toString() {
            return "authentication failed: " + reason;
        }
    }
}
