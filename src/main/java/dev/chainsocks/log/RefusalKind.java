package dev.chainsocks.log;

/**
 * Why a connection was refused before it asked for anything. Refused lines are rate-limited per kind, so a flood
 * of one kind (anyone who can reach the port can cause one) neither fills the log nor hides the other kinds.
 */
public enum RefusalKind {
    /** The redirector found no original destination: the connection was not redirected to it by the firewall. */
    NO_ORIGINAL_DESTINATION("no original destination"),
    /** The loop guard refused it: the destination is chainsocks' own listener, or the client its own socket. */
    LOOP("loop guard"),
    /** A client of the bundled server that never made a valid request: garbage, a rejected handshake, a timeout. */
    HANDSHAKE("no valid request"),
    /** A connection to a fake-IP pool address that stands for no name (expired, or from before a restart). */
    UNMAPPED_FAKE_IP("fake address without a name");

    private final String label;

    RefusalKind(String label) {
        this.label = label;
    }

    /** {@code no original destination}, {@code loop guard} or {@code no valid request}, as the summary shows it. */
    @Override
    public String toString() {
        return label;
    }
}
