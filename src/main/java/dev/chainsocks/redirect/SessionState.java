package dev.chainsocks.redirect;

import java.util.Locale;

/** Where a redirected connection is in its life, as {@code chainsocks connections} shows it. */
public enum SessionState {
    /** Asking the kernel where the connection was going. */
    LOOKUP,
    /** Opening the destination through a chain. */
    DIALING,
    /** Bytes flow both ways. */
    RELAY;

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
