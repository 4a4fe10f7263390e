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

    /**
     * What {@link #unwrapMessage} found: the message, and whether the peer had it encrypted (confidentiality) or
     * only integrity-protected.
     */
    record Unwrapped(byte[] message, boolean confidential) {
    }

    /**
     * Per-message protection of the relayed stream once the context is established (RFC 1961 section 5): gss_wrap
     * with {@code conf_req} = {@code confidential}. Unlike the calls above this never blocks: it needs no login,
     * file or KDC, only the context's own keys, so an event loop may call it.
     */
    byte[] wrapMessage(byte[] message, boolean confidential) throws GssapiException;

    /** Checks and removes the protection of one relayed message the peer wrapped; never blocks, as above. */
    Unwrapped unwrapMessage(byte[] token) throws GssapiException;

    /** The most message bytes whose wrapped token is at most {@code maxToken} bytes (gss_wrap_size_limit). */
    int wrapSizeLimit(boolean confidential, int maxToken) throws GssapiException;

    /** The authenticated peer's principal, {@code alice@EXAMPLE.TEST}; only once {@link #established()}. */
    String peerName() throws GssapiException;

    /** Releases the context; no call follows. Never throws. */
    void dispose();

    /** The mechanism and names, for logs: "Kerberos V5 as alice@EXAMPLE.TEST for rcmd/proxy.example". */
    @Override
    String toString();
}
