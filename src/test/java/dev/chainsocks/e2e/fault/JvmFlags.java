package dev.chainsocks.e2e.fault;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JVM options chainsocks runs with. The suites start it with {@link #shipped()}, read from the systemd unit's
 * {@code ExecStart=} line, so what they prove about memory and descriptors holds for what is installed.
 */
record JvmFlags(String name, List<String> options) {

    static final Path UNIT = Path.of("systemd", "chainsocks.service");
    private static final Pattern MAX_HEAP = Pattern.compile("-Xmx(\\d+)([kKmMgG]?)");

    /**
     * The unit's flags before heap and GC settings were chosen from soak measurements (docs/testing.md); kept to
     * measure against. The launcher's default then was the first three.
     */
    static final JvmFlags PREVIOUS = new JvmFlags("previous", List.of("-XX:+UseSerialGC", "-Xmn4m", "-Xss512k",
            "-XX:MaxRAMPercentage=25", "-XX:ReservedCodeCacheSize=48m", "-XX:+ExitOnOutOfMemoryError"));

    JvmFlags {
        options = List.copyOf(options);
    }

    /**
     * The options between {@code /usr/bin/java} and {@code -jar} on the unit's ExecStart= line, without jffi's and
     * without the installed class-data archive: that one belongs to the installed jar, not to the one under test.
     */
    static JvmFlags shipped() {
        Path unit = repository().resolve(UNIT);
        List<String> lines;
        try {
            lines = Files.readAllLines(unit);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + unit, e);
        }
        String execStart = lines.stream().filter(line -> line.startsWith("ExecStart=")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no ExecStart= in " + unit));
        List<String> words = Arrays.asList(execStart.substring("ExecStart=".length()).trim().split("\\s+"));
        int jar = words.indexOf("-jar");
        if (!words.get(0).endsWith("/java") || jar < 0) {
            throw new IllegalStateException("ExecStart= of " + unit + " does not run java -jar: " + execStart);
        }
        List<String> options = new ArrayList<>();
        for (String word : words.subList(1, jar)) {
            if (!word.startsWith("-Djffi.extract.dir=") && !word.startsWith("-XX:SharedArchiveFile=")) {
                options.add(word);
            }
        }
        return new JvmFlags("shipped", options);
    }

    /** A named set given on the command line: {@code name=-Xopt -Xopt2}. */
    static JvmFlags parse(String text) {
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("flag set must be NAME=OPTIONS, got " + text);
        }
        String options = text.substring(eq + 1).strip();
        return new JvmFlags(text.substring(0, eq).strip(),
                options.isEmpty() ? List.of() : Arrays.asList(options.split("\\s+")));
    }

    /** The maximum heap {@code -Xmx} sets, in KiB; empty when the JVM picks it. */
    OptionalLong maxHeapKib() {
        OptionalLong found = OptionalLong.empty();
        for (String option : options) {
            Matcher matcher = MAX_HEAP.matcher(option);
            if (matcher.matches()) {
                long value = Long.parseLong(matcher.group(1));
                found = OptionalLong.of(switch (matcher.group(2).toLowerCase(Locale.ROOT)) {
                    case "k" -> value;
                    case "m" -> value << 10;
                    case "g" -> value << 20;
                    default -> value >> 10;
                });
            }
        }
        return found;
    }

    /** Maven runs the tests from the project directory. */
    static Path repository() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    }

    @Override
    public String toString() {
        return name + " [" + String.join(" ", options) + "]";
    }
}
