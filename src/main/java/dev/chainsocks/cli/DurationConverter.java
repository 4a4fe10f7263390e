package dev.chainsocks.cli;

import dev.chainsocks.syntax.DurationSyntax;
import java.time.Duration;
import picocli.CommandLine;

/** Durations on the command line, in the config file's syntax: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        try {
            return DurationSyntax.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
