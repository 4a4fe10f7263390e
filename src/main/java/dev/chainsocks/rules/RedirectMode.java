package dev.chainsocks.rules;

/** Whose connections the generated rules redirect to chainsocks. */
public enum RedirectMode {
    /**
     * This machine's own outgoing connections (nat OUTPUT). chainsocks' own upstream connections must be told
     * apart by {@code service.mark} or by the owner uid, or they would be redirected back to chainsocks.
     */
    LOCAL,
    /** Connections from other machines routed through this one (nat PREROUTING), optionally from one interface. */
    GATEWAY
}
