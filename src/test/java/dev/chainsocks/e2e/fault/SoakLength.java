package dev.chainsocks.e2e.fault;

import java.util.Locale;

/**
 * How long the fault and soak suites run: {@link #SHORT} in CI (the whole set within about two minutes), or
 * {@link #LONG} with {@code -Dchainsocks.soak=long} (see docs/testing.md), which runs the same tests with more
 * connections, more bytes and longer windows. Nothing but the parameters differs, so the short run proves the same
 * properties on a smaller scale.
 */
enum SoakLength {
    SHORT,
    LONG;

    static final String PROPERTY = "chainsocks.soak";

    static SoakLength current() {
        String value = System.getProperty(PROPERTY, "short").strip().toLowerCase(Locale.ROOT);
        return switch (value) {
            case "", "short" -> SHORT;
            case "long" -> LONG;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + " must be short or long, got " + value);
        };
    }

    <T> T pick(T shortValue, T longValue) {
        return this == SHORT ? shortValue : longValue;
    }

    boolean isLong() {
        return this == LONG;
    }
}
