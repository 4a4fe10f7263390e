package dev.chainsocks.cli.top;

import java.util.Objects;

/**
 * One line of {@code top}'s output, and what it is, so that the full-screen view can highlight headings while
 * {@code --once} prints the text alone.
 */
public record Line(Kind kind, String text) {

    /** What a line is. */
    public enum Kind {
        /** The summary at the top. */
        TITLE,
        /** A table's column names. */
        HEADING,
        /** A table row, a blank line or a note. */
        PLAIN
    }

    /** Checks that nothing is null. */
    public Line {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(text, "text");
    }

    static Line plain(String text) {
        return new Line(Kind.PLAIN, text);
    }
}
