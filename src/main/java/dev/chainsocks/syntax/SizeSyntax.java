package dev.chainsocks.syntax;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as the configuration writes them: a whole number and a binary unit, {@code "512KiB"}, {@code "32MiB"},
 * {@code "1GiB"}. Strings, like durations, so that a bare number cannot mean bytes in one place and MiB in another.
 */
public final class SizeSyntax {

    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(KiB|MiB|GiB)");

    /** What a size looks like, for error messages. */
    public static final String EXAMPLES = "write a whole number and a unit: \"512KiB\", \"32MiB\" or \"1GiB\"";

    private SizeSyntax() {
    }

    /**
     * Reads a size in bytes.
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static long parse(String text) {
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid size \"" + text + "\" (" + EXAMPLES + ")");
        }
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "KiB" -> amount << 10;
            case "MiB" -> amount << 20;
            default -> amount << 30;
        };
    }

    /** The largest unit that writes the size exactly: {@code 33554432} as {@code "32MiB"}. */
    public static String format(long bytes) {
        if (bytes > 0 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "GiB";
        }
        if (bytes > 0 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "MiB";
        }
        if (bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "KiB";
        }
        throw new IllegalArgumentException("not a whole number of KiB: " + bytes);
    }
}
