package dev.chainsocks.cli.top;

import dev.chainsocks.service.ConnectionsReport.Chain;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One chain with the failures {@code top} saw it add recently.
 *
 * @param chain          what the service reported
 * @param recentFailures failed dials during the frame's {@link Frame#recentWindow()}; empty in the first sample
 */
public record ChainRow(Chain chain, OptionalLong recentFailures) {

    /** Checks that nothing is null. */
    public ChainRow {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(recentFailures, "recentFailures");
    }
}
