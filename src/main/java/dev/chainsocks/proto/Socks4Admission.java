package dev.chainsocks.proto;

/** What an {@link Authenticator} decided about one SOCKS4 or SOCKS4a request. */
public enum Socks4Admission {
    /** Served: no users are configured, or the policy admits this USERID. */
    ADMITTED,
    /** The server requires a password and SOCKS4 has none ({@link Socks4Policy#REFUSE}). */
    REFUSED_NO_PASSWORD,
    /** The policy looks at the USERID and the request sent none. */
    REFUSED_NO_USERID,
    /** The policy looks at the USERID and it names no user. */
    REFUSED_UNKNOWN_USERID
}
