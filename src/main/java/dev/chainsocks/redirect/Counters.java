package dev.chainsocks.redirect;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Service-wide totals for status and metrics; cheap to bump from any loop. */
public final class Counters {

    private final LongAdder accepted = new LongAdder();
    private final LongAdder dialed = new LongAdder();
    private final LongAdder bytesUp = new LongAdder();
    private final LongAdder bytesDown = new LongAdder();
    private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();

    void countAccepted() {
        accepted.increment();
    }

    void countDialed() {
        dialed.increment();
    }

    void countFailure(String reason) {
        failures.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    void countTransferred(long up, long down) {
        bytesUp.add(up);
        bytesDown.add(down);
    }

    public long accepted() {
        return accepted.sum();
    }

    public long dialedCount() {
        return dialed.sum();
    }

    public long bytesUp() {
        return bytesUp.sum();
    }

    public long bytesDown() {
        return bytesDown.sum();
    }

    /**
     * Failures by reason: lookup (no original destination), loop (loop guard), dial (every chain failed),
     * destination (every chain worked and its last hop said the destination refused or was unreachable).
     */
    public Map<String, Long> failuresByReason() {
        Map<String, Long> snapshot = new TreeMap<>();
        failures.forEach((reason, count) -> snapshot.put(reason, count.sum()));
        return snapshot;
    }
}
