package dev.chainsocks.redirect;

import java.util.Locale;

/**
 * Why a redirected connection got no tunnel; the label of the {@code failed} counters in {@code status} and of
 * {@code chainsocks_connections_failed_total{reason=...}}.
 */
public enum FailureReason {
    /** No original destination: not a REDIRECTed connection, or the lookup failed. */
    LOOKUP,
    /** The loop guard refused it: a connection to our own listener, or from our own upstream socket. */
    LOOP,
    /** Every chain tried failed, at least one of them by a fault of the chain. */
    DIAL,
    /** Every chain worked and its last hop said the destination refused or was unreachable. */
    DESTINATION,
    /** This host could not make a socket (out of file descriptors, no local port); no chain was blamed. */
    LOCAL,
    /** The destination was a fake-IP pool address that stands for no name. */
    UNMAPPED;

    /** The lower-case name used in status and metrics. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return label();
    }
}
