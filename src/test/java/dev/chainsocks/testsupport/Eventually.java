package dev.chainsocks.testsupport;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition that another thread or process makes true: polls it with a deadline instead of sleeping a
 * guessed time, and fails saying what was expected and what was seen.
 */
public final class Eventually {

    /** Long enough for a loaded machine; a condition that holds returns at once. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

    private Eventually() {
    }

    public static void until(Duration deadline, BooleanSupplier condition, Supplier<String> whatWasExpected) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within " + deadline + ": " + whatWasExpected.get());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + whatWasExpected.get(), e);
            }
        }
    }

    /** {@link #until(Duration, BooleanSupplier, Supplier)} with the default deadline. */
    public static void until(String what, BooleanSupplier condition) {
        until(DEFAULT_DEADLINE, condition, () -> what);
    }

    /** A count of live things (sessions, connections) is back to 0. */
    public static void noneActive(String what, IntSupplier active) {
        until(DEFAULT_DEADLINE, () -> active.getAsInt() == 0,
                () -> what + " back to 0, still " + active.getAsInt());
    }
}
