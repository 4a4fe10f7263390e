package dev.chainsocks.e2e.fault;

import dev.chainsocks.e2e.TestWorkspace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * The measured figures of a run, one line per finding, appended to {@code target/fault-figures.txt} (and printed,
 * which failsafe keeps in the test's output file): what docs/testing.md quotes from the last long run.
 */
final class Figures {

    static final String FILE = "fault-figures.txt";

    private Figures() {
    }

    static synchronized void record(String suite, String format, Object... args) {
        String length = SoakLength.current().name().toLowerCase(Locale.ROOT);
        String line = Instant.now().truncatedTo(ChronoUnit.SECONDS) + " " + suite + " (" + length + "): "
                + String.format(Locale.ROOT, format, args);
        System.out.println(line);
        Path file = TestWorkspace.targetDirectory().resolve(FILE);
        try {
            Files.writeString(file, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }
}
