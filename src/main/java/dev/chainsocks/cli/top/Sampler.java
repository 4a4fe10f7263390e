package dev.chainsocks.cli.top;

import dev.chainsocks.service.ConnectionsReport;
import dev.chainsocks.service.ConnectionsReport.Chain;
import dev.chainsocks.service.ConnectionsReport.Connection;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Turns successive samples from the service into {@link Frame}s: each session's rate is the bytes it moved since the
 * previous sample over the time between the two, and each chain's recent failures are the failed dials it added
 * within the last {@link #RECENT_WINDOW}. Time is the service's own uptime in each sample, so a slow answer does not
 * skew the rates.
 *
 * <pre>{@code
 * Sampler sampler = new Sampler();
 * Frame first = sampler.next(report1);   // no rates yet
 * Frame second = sampler.next(report2);  // rates over report2.uptime - report1.uptime
 * }</pre>
 */
public final class Sampler {

    /** How far back a chain's recent failures reach. */
    public static final Duration RECENT_WINDOW = Duration.ofSeconds(60);

    private record ChainKey(String listener, String name) {
        static ChainKey of(Chain chain) {
            return new ChainKey(chain.listener(), chain.name());
        }
    }

    /** A chain's failure count at one moment of the service's uptime. */
    private record FailureMark(long uptimeMillis, long failures) {
    }

    private ConnectionsReport previous;
    private final Map<ChainKey, Deque<FailureMark>> failureHistory = new HashMap<>();

    /** The frame for {@code report}, measured against the previous one given here. */
    public Frame next(ConnectionsReport report) {
        if (previous != null && report.uptimeMillis() < previous.uptimeMillis()) {
            // The service restarted: its counters began again.
            previous = null;
            failureHistory.clear();
        }
        Optional<ConnectionsReport> before = Optional.ofNullable(previous)
                .filter(p -> report.uptimeMillis() > p.uptimeMillis());
        List<ConnectionRow> connections = connectionRows(report, before);
        ChainRows chains = chainRows(report);
        OptionalDouble upRate = OptionalDouble.empty();
        OptionalDouble downRate = OptionalDouble.empty();
        if (before.isPresent()) {
            double seconds = (report.uptimeMillis() - before.get().uptimeMillis()) / 1000.0;
            upRate = OptionalDouble.of(Math.max(0, movedUp(report) - movedUp(before.get())) / seconds);
            downRate = OptionalDouble.of(Math.max(0, movedDown(report) - movedDown(before.get())) / seconds);
        }
        previous = report;
        return new Frame(report, connections, chains.rows(), upRate, downRate, chains.window());
    }

    private static List<ConnectionRow> connectionRows(ConnectionsReport report, Optional<ConnectionsReport> before) {
        Map<Long, Connection> earlier = new HashMap<>();
        before.ifPresent(b -> b.connections().forEach(c -> earlier.put(c.id(), c)));
        List<ConnectionRow> rows = new ArrayList<>(report.connections().size());
        for (Connection connection : report.connections()) {
            OptionalDouble up = OptionalDouble.empty();
            OptionalDouble down = OptionalDouble.empty();
            Connection then = earlier.get(connection.id());
            if (then != null) {
                double seconds = (report.uptimeMillis() - before.get().uptimeMillis()) / 1000.0;
                up = OptionalDouble.of(Math.max(0, connection.bytesUp() - then.bytesUp()) / seconds);
                down = OptionalDouble.of(Math.max(0, connection.bytesDown() - then.bytesDown()) / seconds);
            } else if (before.isPresent() && connection.ageMillis() > 0) {
                // Accepted since the previous sample: everything it moved, it moved during its life.
                double seconds = connection.ageMillis() / 1000.0;
                up = OptionalDouble.of(connection.bytesUp() / seconds);
                down = OptionalDouble.of(connection.bytesDown() / seconds);
            }
            rows.add(new ConnectionRow(connection, up, down));
        }
        return rows;
    }

    /** The chain rows, and how far back their recent failures reach. */
    private record ChainRows(List<ChainRow> rows, Duration window) {
    }

    private ChainRows chainRows(ConnectionsReport report) {
        long now = report.uptimeMillis();
        long start = now - RECENT_WINDOW.toMillis();
        long window = 0;
        List<ChainRow> rows = new ArrayList<>(report.chains().size());
        Map<ChainKey, Deque<FailureMark>> seen = new HashMap<>();
        for (Chain chain : report.chains()) {
            ChainKey key = ChainKey.of(chain);
            Deque<FailureMark> marks = failureHistory.getOrDefault(key, new ArrayDeque<>());
            if (!marks.isEmpty() && chain.failures() < marks.peekLast().failures()) {
                // A reload gave the chain a fresh counter.
                marks.clear();
            }
            marks.addLast(new FailureMark(now, chain.failures()));
            // The baseline is the newest mark at or before the window's start (or the oldest there is).
            while (marks.size() > 1 && secondOf(marks).uptimeMillis() <= start) {
                marks.removeFirst();
            }
            FailureMark baseline = marks.peekFirst();
            OptionalLong recent = marks.size() > 1
                    ? OptionalLong.of(chain.failures() - baseline.failures())
                    : OptionalLong.empty();
            window = Math.max(window, now - baseline.uptimeMillis());
            seen.put(key, marks);
            rows.add(new ChainRow(chain, recent));
        }
        failureHistory.clear();
        failureHistory.putAll(seen);
        return new ChainRows(rows, Duration.ofMillis(window));
    }

    private static FailureMark secondOf(Deque<FailureMark> marks) {
        Iterator<FailureMark> iterator = marks.iterator();
        iterator.next();
        return iterator.next();
    }

    private static long movedUp(ConnectionsReport report) {
        return report.totals().bytesUp() + report.connections().stream().mapToLong(Connection::bytesUp).sum();
    }

    private static long movedDown(ConnectionsReport report) {
        return report.totals().bytesDown() + report.connections().stream().mapToLong(Connection::bytesDown).sum();
    }
}
