package dev.chainsocks.proto.ident;

import java.util.Optional;

/** The error types RFC 1413 defines; a server may also send its own token starting with {@code X}. */
public enum IdentErrorType {
    /** The port pair is not well formed or does not name a connection. */
    INVALID_PORT("INVALID-PORT"),
    /** The port pair names no connection, or one with no identifiable owner. */
    NO_USER("NO-USER"),
    /** The owner asked not to be named. */
    HIDDEN_USER("HIDDEN-USER"),
    /** Any other failure, or every failure of a server that hides which one. */
    UNKNOWN_ERROR("UNKNOWN-ERROR");

    private final String token;

    IdentErrorType(String token) {
        this.token = token;
    }

    /** As sent on the wire. */
    public String token() {
        return token;
    }

    public static Optional<IdentErrorType> fromToken(String token) {
        for (IdentErrorType type : values()) {
            if (type.token.equals(token)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return token;
    }
}
