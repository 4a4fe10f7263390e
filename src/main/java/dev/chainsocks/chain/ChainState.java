package dev.chainsocks.chain;

import java.util.Locale;

/** What the latest dial through a chain showed, as {@code chainsocks status} and the metrics report it. */
public enum ChainState {
    /**
     * No dial has yet told whether the chain works: nothing is known about it, good or bad. A destination that the
     * last hop refused says nothing against the chain and leaves its state as it was.
     */
    UNTRIED,
    /** The latest dial through the chain reached its destination (or the last hop answered for it). */
    UP,
    /** The latest dial through the chain failed; it is tried after the others during its backoff. */
    DOWN;

    /** {@code untried}, {@code up} or {@code down}, as status and the metrics' {@code state} label show it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
