package dev.chainsocks.proto;

/**
 * One side of a GSS-API security context, as a SOCKS5 GSSAPI handshake (RFC 1961) uses it. Implemented outside the
 * protocol core (with the JDK's JGSS); every call may block, reading a keytab or asking a KDC, so a handshake
 * never calls one itself: it hands the call out as a {@link BlockingStep}.
 */
public interface GssapiContext {

    /**
     * One context establishment step: the initiator's first call gets an empty token. Returns the token to send to
     * the peer, possibly empty.
     */
    byte[] step(byte[] peerToken) throws GssapiException;

    /** Whether the context is established (after the last {@link #step}). */
    boolean established();

    /** Integrity-protects {@code message} (gss_wrap without confidentiality), for the protection level message. */
    byte[] wrap(byte[] message) throws GssapiException;

    /** Checks and removes the protection of a token the peer wrapped. */
    byte[] unwrap(byte[] token) throws GssapiException;

    /** The authenticated peer's principal, {@code alice@EXAMPLE.TEST}; only once {@link #established()}. */
    String peerName() throws GssapiException;

    /** Releases the context; no call follows. Never throws. */
    void dispose();

    /** The mechanism and names, for logs: "Kerberos V5 as alice@EXAMPLE.TEST for rcmd/proxy.example". */
    @Override
    String toString();
}
