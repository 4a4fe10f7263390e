package dev.chainsocks.syntax;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as the configuration writes them: a whole number and a unit, {@code "500ms"}, {@code "10s"},
 * {@code "5m"}, {@code "1h"}. Always strings in the file, so that {@code 10} cannot silently mean seconds in one
 * place and milliseconds in another.
 */
public final class DurationSyntax {

    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    /** What a duration looks like, for error messages. */
    public static final String EXAMPLES = "write a whole number and a unit: \"500ms\", \"10s\", \"5m\" or \"1h\"";

    private DurationSyntax() {
    }

    /**
     * Reads a duration.
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static Duration parse(String text) {
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\" (" + EXAMPLES + ")");
        }
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
    }

    /** Writes a duration in the largest unit that keeps it exact: 90 seconds is {@code "90s"}, 2 minutes {@code "2m"}. */
    public static String format(Duration duration) {
        long millis = duration.toMillis();
        if (millis == 0) {
            return "0s";
        }
        if (millis % 3_600_000 == 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        if (millis % 1000 == 0) {
            return millis / 1000 + "s";
        }
        return millis + "ms";
    }
}
