package dev.chainsocks.log;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Lets at most {@code perWindow} refused lines of each {@link RefusalKind} through per {@code window}, and sums up
 * the rest in one line when the window closes: {@code 1234 more refused connections like this (loop guard) in the
 * last 1.000s}. A window starts with the first line of its kind; the summary comes from a timer at its end, or
 * before the next line of the kind if that comes first, so it always precedes the lines of the next window.
 *
 * <p>Thread-safe; called from every event loop. The decision is made under a lock and the lines are written
 * after it, so a slow log never holds up another loop's decision.
 */
final class RefusedLineLimiter {

    /** Runs a task once after a delay; the production one uses the JDK's shared delay thread. */
    @FunctionalInterface
    interface Scheduler {
        Scheduler JDK = (delay, task) ->
                CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS, Runnable::run).execute(task);

        void after(Duration delay, Runnable task);
    }

    /** One kind's current window; idle between windows. */
    private static final class Window {
        boolean open;
        long startNanos;
        int written;
        long suppressed;
        boolean flushScheduled;
    }

    private final int perWindow;
    private final long windowNanos;
    private final LongSupplier nanoTime;
    private final Scheduler scheduler;
    private final Consumer<String> out;
    private final Map<RefusalKind, Window> windows = new EnumMap<>(RefusalKind.class);

    /**
     * @param perWindow lines of one kind written per window, at least 1
     * @param window    how long a window lasts, positive
     * @param nanoTime  a monotonic clock in nanoseconds, such as {@code System::nanoTime}
     * @param scheduler where the summary at a window's end is scheduled
     * @param out       where lines are written
     */
    RefusedLineLimiter(int perWindow, Duration window, LongSupplier nanoTime, Scheduler scheduler,
                       Consumer<String> out) {
        if (perWindow < 1) {
            throw new IllegalArgumentException("perWindow must be at least 1: " + perWindow);
        }
        if (window.isZero() || window.isNegative()) {
            throw new IllegalArgumentException("window must be positive: " + window);
        }
        this.perWindow = perWindow;
        this.windowNanos = window.toNanos();
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.out = Objects.requireNonNull(out, "out");
        for (RefusalKind kind : RefusalKind.values()) {
            windows.put(kind, new Window());
        }
    }

    /** Writes the line built by {@code line}, unless this window already had its share of {@code kind}. */
    void log(RefusalKind kind, Supplier<String> line) {
        List<String> lines = new ArrayList<>(2);
        Duration scheduleIn = null;
        synchronized (this) {
            Window w = windows.get(kind);
            long now = nanoTime.getAsLong();
            if (w.open && now - w.startNanos >= windowNanos) {
                close(kind, w, now, lines);
            }
            if (!w.open) {
                w.open = true;
                w.startNanos = now;
            }
            if (w.written < perWindow) {
                w.written++;
                lines.add(line.get());
            } else {
                w.suppressed++;
                if (!w.flushScheduled) {
                    w.flushScheduled = true;
                    scheduleIn = Duration.ofNanos(w.startNanos + windowNanos - now);
                }
            }
        }
        lines.forEach(out);
        if (scheduleIn != null) {
            scheduler.after(scheduleIn, () -> flush(kind));
        }
    }

    /** The timer at a window's end: writes the summary, if the window is still open and has one. */
    private void flush(RefusalKind kind) {
        List<String> lines = new ArrayList<>(1);
        Duration again = null;
        synchronized (this) {
            Window w = windows.get(kind);
            w.flushScheduled = false;
            if (!w.open || w.suppressed == 0) {
                return;
            }
            long now = nanoTime.getAsLong();
            if (now - w.startNanos < windowNanos) {
                // Not over yet by our clock (the timer fired early): look again at the end.
                w.flushScheduled = true;
                again = Duration.ofNanos(w.startNanos + windowNanos - now);
            } else {
                close(kind, w, now, lines);
            }
        }
        lines.forEach(out);
        if (again != null) {
            scheduler.after(again, () -> flush(kind));
        }
    }

    private static void close(RefusalKind kind, Window w, long now, List<String> lines) {
        if (w.suppressed > 0) {
            lines.add(w.suppressed + " more refused connections like this (" + kind + ") in the last "
                    + AccessLog.seconds(Duration.ofNanos(now - w.startNanos)));
        }
        w.open = false;
        w.written = 0;
        w.suppressed = 0;
    }
}
