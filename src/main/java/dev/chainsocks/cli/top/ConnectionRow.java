package dev.chainsocks.cli.top;

import dev.chainsocks.service.ConnectionsReport.Connection;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * One live session with its current rates.
 *
 * @param connection what the service reported
 * @param upRate     bytes per second from the client over the last interval; empty in the first sample
 * @param downRate   bytes per second to the client over the last interval; empty in the first sample
 */
public record ConnectionRow(Connection connection, OptionalDouble upRate, OptionalDouble downRate) {

    /** Checks that nothing is null. */
    public ConnectionRow {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(upRate, "upRate");
        Objects.requireNonNull(downRate, "downRate");
    }

    /** Both directions together, for sorting; 0 while unknown. */
    double totalRate() {
        return upRate.orElse(0) + downRate.orElse(0);
    }
}
