package dev.chainsocks.proto.ident;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/** An RFC 1413 response line: who owns the connection, or why the identd will not say. */
public sealed interface IdentResponse {

    /** The port pair of the query this answers; a client checks it is the one it asked about. */
    IdentQuery ports();

    /**
     * {@code USERID : <opsys>[ , <charset>] : <user id>}. {@code charset} is null when the server named none
     * (US-ASCII then); the user id is decoded with it. {@code OTHER} as opsys means the id is not the owner's user
     * name but some other string (an audit token, a real name).
     */
    record UserId(IdentQuery ports, String opsys, String charset, String userId) implements IdentResponse {
        /** What RFC 1413 says a server sends at most and a client accepts at least. */
        public static final int MAX_USER_ID_BYTES = 512;

        public UserId {
            Objects.requireNonNull(ports, "ports");
            IdentCodec.checkToken(opsys, "opsys");
            if (charset != null) {
                IdentCodec.checkToken(charset, "charset");
            }
            Objects.requireNonNull(userId, "userId");
            if (userId.isEmpty()) {
                throw new IllegalArgumentException("ident user id is empty");
            }
            if (userId.charAt(0) == ' ' || userId.charAt(0) == '\t') {
                throw new IllegalArgumentException("ident user id starts with white space, which readers drop");
            }
            if (userId.indexOf('\0') >= 0 || userId.indexOf('\r') >= 0 || userId.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("ident user id contains NUL, CR or LF");
            }
        }

        /** Whether the id is a user name on the identd host rather than free text ({@code OTHER}). */
        public boolean namesUser() {
            return !"OTHER".equals(opsys);
        }

        @Override
        public String toString() {
            return "USERID " + opsys + (charset == null ? "" : "," + charset) + " " + userId;
        }
    }

    /** {@code ERROR : <type>}: a type of {@link IdentErrorType}, or a server's own token. */
    record Error(IdentQuery ports, String type) implements IdentResponse {
        public Error {
            Objects.requireNonNull(ports, "ports");
            IdentCodec.checkToken(type, "error type");
        }

        public Error(IdentQuery ports, IdentErrorType type) {
            this(ports, type.token());
        }

        /** The standard type, or empty for a server's own token. */
        public Optional<IdentErrorType> standardType() {
            return IdentErrorType.fromToken(type);
        }

        @Override
        public String toString() {
            return "ERROR " + type;
        }
    }

    /** The name US-ASCII takes when a response names no charset. */
    String DEFAULT_CHARSET = StandardCharsets.US_ASCII.name();
}
