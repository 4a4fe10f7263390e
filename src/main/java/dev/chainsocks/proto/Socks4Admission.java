package dev.chainsocks.proto;

/** What an {@link Authenticator} decided about one SOCKS4 or SOCKS4a request. */
public enum Socks4Admission {
    /** Served: no users are configured, or the policy admits this USERID. */
    ADMITTED,
    /** The USERID names a known user; the client host's identd must confirm it first ({@link Socks4Policy#IDENTD}). */
    CONFIRM_WITH_IDENTD,
    /** The server requires a password and SOCKS4 has none ({@link Socks4Policy#REFUSE}). */
    REFUSED_NO_PASSWORD,
    /** The policy looks at the USERID and the request sent none. */
    REFUSED_NO_USERID,
    /** The policy looks at the USERID and it names no user. */
    REFUSED_UNKNOWN_USERID
}
