package dev.chainsocks.udp;

/** Why a UDP flow ended, as its end line says in {@code outcome=}. */
public enum FlowEnd {
    /** No datagram either way for {@code flow-idle-timeout}. */
    IDLE("idle"),
    /** The proxy closed the association's TCP connection (or reset it), which ends the association. */
    ASSOCIATION_CLOSED("association-closed"),
    /** The flow table was full and this was the least recently active flow when a new one came. */
    EVICTED("evicted"),
    /** No chain could open a UDP association, or the relay became unreachable. */
    FAILED("failed"),
    /** The listener was closed: shutdown, or a reload that changed it. */
    CLOSED("closed");

    private final String logName;

    FlowEnd(String logName) {
        this.logName = logName;
    }

    @Override
    public String toString() {
        return logName;
    }
}
