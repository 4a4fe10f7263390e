package dev.chainsocks.proto;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * How a server that has users admits SOCKS4 and SOCKS4a requests. Those carry a USERID but never a password, so a
 * user name alone would let in anyone who knows or guesses one. A server without users admits every request and
 * never asks its policy.
 *
 * <p>RFC 1413 confirmation (ask the client host's identd who owns the connection, as SOCKS4 intended) would be one
 * more value here, deciding that the request must be confirmed before it is admitted.
 */
public enum Socks4Policy {
    /** Refuse every SOCKS4/4a request: the server requires a password and SOCKS4 cannot carry one. The default. */
    REFUSE,
    /** Admit a request whose USERID names a known user, without any proof that the client is that user. */
    USERID_ONLY;

    /** The decision for one request's USERID ({@code ""} when it sent none). Pure. */
    public Socks4Admission admit(String userId, Predicate<String> isKnownUser) {
        Objects.requireNonNull(userId, "userId");
        return switch (this) {
            case REFUSE -> Socks4Admission.REFUSED_NO_PASSWORD;
            case USERID_ONLY -> userId.isEmpty() ? Socks4Admission.REFUSED_NO_USERID
                    : isKnownUser.test(userId) ? Socks4Admission.ADMITTED : Socks4Admission.REFUSED_UNKNOWN_USERID;
        };
    }
}
