package dev.chainsocks.cli.top;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What the connection list is sorted by, busiest or oldest first; the {@code s} key moves to the next one. Ties go
 * to the older session (the lower id), so rows do not swap places between frames for nothing.
 */
public enum SortColumn {
    /** Bytes per second both ways together. */
    RATE(Comparator.comparingDouble(ConnectionRow::totalRate).reversed()),
    /** Bytes per second from the client. */
    UP_RATE(Comparator.comparingDouble((ConnectionRow row) -> row.upRate().orElse(0)).reversed()),
    /** Bytes per second to the client. */
    DOWN_RATE(Comparator.comparingDouble((ConnectionRow row) -> row.downRate().orElse(0)).reversed()),
    /** Bytes moved both ways since the session began. */
    BYTES(Comparator.comparingLong((ConnectionRow row) -> row.connection().bytesUp()
            + row.connection().bytesDown()).reversed()),
    /** Time since the session was accepted. */
    AGE(Comparator.comparingLong((ConnectionRow row) -> row.connection().ageMillis()).reversed());

    private final Comparator<ConnectionRow> order;

    SortColumn(Comparator<ConnectionRow> order) {
        this.order = order.thenComparingLong(row -> row.connection().id());
    }

    /** The order of the connection list. */
    public Comparator<ConnectionRow> order() {
        return order;
    }

    /** The next column, after the last one the first again. */
    public SortColumn next() {
        SortColumn[] all = values();
        return all[(ordinal() + 1) % all.length];
    }

    /** The column named as {@link #toString()} writes it, e.g. {@code down-rate}. */
    public static SortColumn parse(String text) {
        for (SortColumn column : values()) {
            if (column.toString().equals(text.strip().toLowerCase(Locale.ROOT))) {
                return column;
            }
        }
        throw new IllegalArgumentException("unknown sort column \"" + text + "\"; use one of " + names());
    }

    /** {@code rate, up-rate, down-rate, bytes, age}. */
    public static String names() {
        return Arrays.stream(values()).map(SortColumn::toString).collect(Collectors.joining(", "));
    }

    /** {@code rate}, {@code up-rate}, {@code down-rate}, {@code bytes} or {@code age}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
