package dev.chainsocks.redirect;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Service-wide totals for status and metrics; cheap to bump from any loop. */
public final class Counters {

    private final LongAdder accepted = new LongAdder();
    private final LongAdder dialed = new LongAdder();
    private final LongAdder bytesUp = new LongAdder();
    private final LongAdder bytesDown = new LongAdder();
    private final Map<FailureReason, LongAdder> failures = new EnumMap<>(FailureReason.class);

    Counters() {
        for (FailureReason reason : FailureReason.values()) {
            failures.put(reason, new LongAdder());
        }
    }

    void countAccepted() {
        accepted.increment();
    }

    void countDialed() {
        dialed.increment();
    }

    void countFailure(FailureReason reason) {
        failures.get(reason).increment();
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

    /** Failures by reason, in the enum's order; reasons that never happened are left out. */
    public Map<FailureReason, Long> failuresByReason() {
        Map<FailureReason, Long> snapshot = new EnumMap<>(FailureReason.class);
        failures.forEach((reason, count) -> {
            long sum = count.sum();
            if (sum > 0) {
                snapshot.put(reason, sum);
            }
        });
        return snapshot;
    }
}
