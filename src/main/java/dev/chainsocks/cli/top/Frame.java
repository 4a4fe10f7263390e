package dev.chainsocks.cli.top;

import dev.chainsocks.service.ConnectionsReport;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * One screenful of facts: a sample from the service with the rates computed against the one before.
 *
 * @param report        the sample
 * @param connections   the live sessions with their rates, in the service's order (oldest first)
 * @param chains        the chains with their recent failures, in configuration order
 * @param totalUpRate   bytes per second from all clients over the last interval (finished sessions included)
 * @param totalDownRate bytes per second to all clients over the last interval
 * @param recentWindow  how far back the chains' recent failures reach: up to {@link Sampler#RECENT_WINDOW}, less
 *                      while {@code top} has not watched that long
 */
public record Frame(ConnectionsReport report, List<ConnectionRow> connections, List<ChainRow> chains,
                    OptionalDouble totalUpRate, OptionalDouble totalDownRate, Duration recentWindow) {

    /** Checks that nothing is null and copies the lists. */
    public Frame {
        Objects.requireNonNull(report, "report");
        connections = List.copyOf(connections);
        chains = List.copyOf(chains);
        Objects.requireNonNull(totalUpRate, "totalUpRate");
        Objects.requireNonNull(totalDownRate, "totalDownRate");
        Objects.requireNonNull(recentWindow, "recentWindow");
    }

    /** Bytes from clients so far: finished sessions and the live ones. */
    public long totalBytesUp() {
        return report.totals().bytesUp() + report.connections().stream()
                .mapToLong(ConnectionsReport.Connection::bytesUp).sum();
    }

    /** Bytes to clients so far: finished sessions and the live ones. */
    public long totalBytesDown() {
        return report.totals().bytesDown() + report.connections().stream()
                .mapToLong(ConnectionsReport.Connection::bytesDown).sum();
    }
}
