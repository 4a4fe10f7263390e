package dev.chainsocks.proto;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * How a server that has users admits SOCKS4 and SOCKS4a requests. Those carry a USERID but never a password, so a
 * user name alone would let in anyone who knows or guesses one. A server without users admits every request and
 * never asks its policy.
 *
 * <p>{@link #IDENTD} is the check SOCKS4 was designed with (RFC 1413): the server asks the client host's identd
 * who owns the connection. That is the client host's word, not a proof: it is as good as the administrators of the
 * client hosts, so it suits hosts the operator trusts (combine it with an allow-from list).
 */
public enum Socks4Policy {
    /** Refuse every SOCKS4/4a request: the server requires a password and SOCKS4 cannot carry one. The default. */
    REFUSE,
    /** Admit a request whose USERID names a known user, without any proof that the client is that user. */
    USERID_ONLY,
    /**
     * Admit a request whose USERID names a known user once the client host's identd confirms that this user owns
     * the connection. The USERID must name a known user: otherwise any host whose identd vouches for any of its
     * own accounts would get in, and the user list would no longer say who may use the server.
     */
    IDENTD;

    /** The decision for one request's USERID ({@code ""} when it sent none). Pure. */
    public Socks4Admission admit(String userId, Predicate<String> isKnownUser) {
        Objects.requireNonNull(userId, "userId");
        return switch (this) {
            case REFUSE -> Socks4Admission.REFUSED_NO_PASSWORD;
            case USERID_ONLY -> userId.isEmpty() ? Socks4Admission.REFUSED_NO_USERID
                    : isKnownUser.test(userId) ? Socks4Admission.ADMITTED : Socks4Admission.REFUSED_UNKNOWN_USERID;
            case IDENTD -> userId.isEmpty() ? Socks4Admission.REFUSED_NO_USERID
                    : isKnownUser.test(userId) ? Socks4Admission.CONFIRM_WITH_IDENTD
                    : Socks4Admission.REFUSED_UNKNOWN_USERID;
        };
    }
}
