package dev.chainsocks.linux;

import dev.chainsocks.linux.NativeAccess.LibC;

/**
 * {@code CLOCK_MONOTONIC} as the kernel reports it, the clock systemd compares {@code MONOTONIC_USEC} against.
 * ({@link System#nanoTime()} has an unspecified origin, so it cannot stand in.)
 */
public final class MonotonicClock {
    private MonotonicClock() {
    }

    /**
     * Microseconds of {@code CLOCK_MONOTONIC}.
     *
     * @throws UnsupportedOperationException when libc is not available (not Linux)
     */
    public static long microseconds() {
        LibC libc = NativeAccess.libc("CLOCK_MONOTONIC needs Linux");
        Timespec now = new Timespec(NativeAccess.runtime());
        if (libc.clock_gettime(LibC.CLOCK_MONOTONIC, now) != 0) {
            // Only EINVAL/EFAULT are possible, and neither with these arguments.
            throw new IllegalStateException(NativeAccess.lastError("clock_gettime(CLOCK_MONOTONIC)", null).getMessage());
        }
        return now.seconds.get() * 1_000_000L + now.nanoseconds.get() / 1_000L;
    }
}
