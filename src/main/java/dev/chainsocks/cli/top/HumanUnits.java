package dev.chainsocks.cli.top;

import java.time.Duration;
import java.util.Locale;
import java.util.OptionalDouble;

/** Byte counts, rates and ages as {@code top} shows them: short, with binary units. */
final class HumanUnits {

    private static final String[] UNITS = {"K", "M", "G", "T", "P"};

    private HumanUnits() {
    }

    /** {@code 999}, {@code 1.0K}, {@code 12.3M}, {@code 512G}: three significant figures at most, 1K = 1024 bytes. */
    static String bytes(double bytes) {
        if (bytes < 1024) {
            return Long.toString(Math.round(bytes));
        }
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        if (value >= 99.95) {
            return String.format(Locale.ROOT, "%.0f%s", value, UNITS[unit]);
        }
        return String.format(Locale.ROOT, "%.1f%s", value, UNITS[unit]);
    }

    /** A rate in bytes per second as {@link #bytes}, or {@code -} while it is not known yet. */
    static String rate(OptionalDouble bytesPerSecond) {
        return bytesPerSecond.isPresent() ? bytes(bytesPerSecond.getAsDouble()) : "-";
    }

    /** {@code 4.2s}, {@code 5m3s}, {@code 2h5m}, {@code 3d4h}. */
    static String age(Duration duration) {
        long seconds = duration.toSeconds();
        if (seconds < 60) {
            return String.format(Locale.ROOT, "%.1fs", duration.toMillis() / 1000.0);
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + seconds % 60 + "s";
        }
        if (seconds < 86_400) {
            return seconds / 3600 + "h" + seconds % 3600 / 60 + "m";
        }
        return seconds / 86_400 + "d" + seconds % 86_400 / 3600 + "h";
    }
}
