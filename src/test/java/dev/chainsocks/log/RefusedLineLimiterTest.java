package dev.chainsocks.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Refused lines per kind and window, on a clock and timer the test moves by hand: no sleeps. */
class RefusedLineLimiterTest {

    private static final Duration WINDOW = Duration.ofSeconds(1);

    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final List<Scheduled> timers = new ArrayList<>();
    private final List<String> written = new ArrayList<>();
    private final AtomicInteger built = new AtomicInteger();
    private int sessions;
    private final RefusedLineLimiter limiter = new RefusedLineLimiter(3, WINDOW, nanos::get,
            (delay, task) -> timers.add(new Scheduled(nanos.get() + delay.toNanos(), task)), written::add);

    private record Scheduled(long dueNanos, Runnable task) {
    }

    /** Moves the clock and runs the timers that are due by then, in order. */
    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
        while (true) {
            Scheduled due = timers.stream().filter(t -> t.dueNanos() <= nanos.get()).findFirst().orElse(null);
            if (due == null) {
                return;
            }
            timers.remove(due);
            due.task().run();
        }
    }

    /** {@code n} refused connections of a kind, numbered on from the last; counts the lines really built. */
    private void refuse(RefusalKind kind, int n) {
        for (int i = 0; i < n; i++) {
            int id = ++sessions;
            limiter.log(kind, () -> {
                built.incrementAndGet();
                return "session " + id + " refused " + kind;
            });
        }
    }

    @Test
    void aFloodWritesTheFirstLinesThenOneSummaryWhenTheWindowCloses() {
        refuse(RefusalKind.NO_ORIGINAL_DESTINATION, 1000);
        assertThat(written).containsExactly("session 1 refused no original destination",
                "session 2 refused no original destination", "session 3 refused no original destination");
        assertThat(built).as("suppressed lines are not even built").hasValue(3);
        assertThat(timers).hasSize(1);

        advance(WINDOW.minusNanos(1));
        assertThat(written).hasSize(3);
        advance(Duration.ofNanos(1));
        assertThat(written).hasSize(4).last()
                .isEqualTo("997 more refused connections like this (no original destination) in the last 1.000s");

        advance(Duration.ofMinutes(5));
        assertThat(written).as("nothing more without new refusals").hasSize(4);
        assertThat(timers).isEmpty();
    }

    @Test
    void eachWindowLetsItsShareThrough() {
        for (int second = 0; second < 3; second++) {
            refuse(RefusalKind.LOOP, 5);
            advance(WINDOW);
        }
        assertThat(written).filteredOn(line -> line.startsWith("session ")).hasSize(9);
        assertThat(written).filteredOn(line -> line.startsWith("2 more refused connections like this (loop guard)"))
                .hasSize(3);
        assertThat(written.get(3)).isEqualTo("2 more refused connections like this (loop guard) in the last 1.000s");
        assertThat(written.get(4)).isEqualTo("session 6 refused loop guard");
    }

    @Test
    void kindsAreLimitedSeparately() {
        refuse(RefusalKind.HANDSHAKE, 50);
        refuse(RefusalKind.LOOP, 2);
        assertThat(written).containsExactly("session 1 refused no valid request", "session 2 refused no valid request",
                "session 3 refused no valid request", "session 51 refused loop guard", "session 52 refused loop guard");
        advance(WINDOW);
        assertThat(written).last().isEqualTo("47 more refused connections like this (no valid request) in the last"
                + " 1.000s");
        assertThat(written).noneMatch(line -> line.contains("more refused connections like this (loop guard)"));
    }

    @Test
    void withoutSuppressedLinesThereIsNoSummaryNorTimer() {
        refuse(RefusalKind.LOOP, 3);
        advance(WINDOW.multipliedBy(2));
        refuse(RefusalKind.LOOP, 3);
        assertThat(written).hasSize(6).allMatch(line -> line.startsWith("session "));
        assertThat(timers).isEmpty();
    }

    /** The next line after the window comes before the timer runs: the summary first, then the line, once. */
    @Test
    void theNextLineAfterTheWindowBringsTheSummaryBeforeItself() {
        refuse(RefusalKind.LOOP, 4);
        nanos.addAndGet(WINDOW.plusMillis(250).toNanos());
        refuse(RefusalKind.LOOP, 1);
        assertThat(written.subList(3, 5)).containsExactly(
                "1 more refused connections like this (loop guard) in the last 1.250s",
                "session 5 refused loop guard");

        advance(Duration.ZERO);
        assertThat(written).as("the late timer finds nothing to add").hasSize(5);
    }

    /**
     * A window that began while the timer of an earlier one was still pending: its own summary comes at its own
     * end, not at the earlier window's.
     */
    @Test
    void aPendingTimerOfAnEarlierWindowWaitsForTheCurrentOne() {
        refuse(RefusalKind.LOOP, 4);
        nanos.addAndGet(WINDOW.plusMillis(100).toNanos());
        refuse(RefusalKind.LOOP, 6);
        assertThat(written).hasSize(7);

        advance(Duration.ZERO);
        assertThat(written).as("the earlier window's timer, already due, is too early for this one").hasSize(7);
        advance(WINDOW.minusNanos(1));
        assertThat(written).hasSize(7);
        advance(Duration.ofNanos(1));
        assertThat(written).hasSize(8).last()
                .isEqualTo("3 more refused connections like this (loop guard) in the last 1.000s");
    }

    @Test
    void refusesNonsenseLimits() {
        assertThatThrownBy(() -> new RefusedLineLimiter(0, WINDOW, nanos::get, (d, t) -> { }, written::add))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RefusedLineLimiter(1, Duration.ZERO, nanos::get, (d, t) -> { }, written::add))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
