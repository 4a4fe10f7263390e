package dev.chainsocks.server;

import java.time.Duration;
import java.util.Objects;

/**
 * How the server asks a SOCKS4 client host's identd (RFC 1413) to confirm a USERID, when the users' SOCKS4 policy is
 * {@link dev.chainsocks.proto.Socks4Policy#IDENTD}.
 *
 * @param port    identd's port on the client host; 113 everywhere but in tests
 * @param timeout one deadline for connecting to identd and reading its answer
 */
public record IdentdCheck(int port, Duration timeout) {

    public static final int IDENT_PORT = 113;
    public static final IdentdCheck DEFAULT = new IdentdCheck(IDENT_PORT, Duration.ofSeconds(5));

    public IdentdCheck {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("identd port must be 1..65535, got " + port);
        }
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("identd timeout must be positive");
        }
    }
}
