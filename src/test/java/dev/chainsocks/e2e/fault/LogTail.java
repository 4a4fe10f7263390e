package dev.chainsocks.e2e.fault;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Reads a process's log as it grows, from where it stopped last time, so a soak with hundreds of thousands of
 * access-log lines is never read twice. The routine lines of a healthy connection — {@code session N start} and
 * {@code session N end ... outcome=ok} — are counted and, unless the tail keeps everything, dropped; every other
 * line is kept in order and can be awaited.
 */
final class LogTail {

    private static final Pattern START = Pattern.compile(" session \\d+ start ");
    private static final Pattern END = Pattern.compile(" session \\d+ end ");

    private final Path file;
    private final boolean keepRoutine;
    private final List<String> kept = new ArrayList<>();
    private long offset;
    private byte[] partial = new byte[0];
    private long starts;
    private long ends;

    private LogTail(Path file, boolean keepRoutine) {
        this.file = file;
        this.keepRoutine = keepRoutine;
    }

    /** Keeps every line. */
    static LogTail keepingAll(Path file) {
        return new LogTail(file, true);
    }

    /** Counts start lines and clean end lines without keeping them; keeps the rest. */
    static LogTail keepingNotable(Path file) {
        return new LogTail(file, false);
    }

    static boolean isStart(String line) {
        return START.matcher(line).find();
    }

    static boolean isEnd(String line) {
        return END.matcher(line).find();
    }

    /** Reads what was appended since the last call. */
    synchronized LogTail refresh() {
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long length = in.length();
            if (length <= offset) {
                return this;
            }
            byte[] fresh = new byte[(int) Math.min(length - offset, 64L << 20)];
            in.seek(offset);
            in.readFully(fresh);
            offset += fresh.length;
            byte[] data = new byte[partial.length + fresh.length];
            System.arraycopy(partial, 0, data, 0, partial.length);
            System.arraycopy(fresh, 0, data, partial.length, fresh.length);
            int lineStart = 0;
            for (int i = 0; i < data.length; i++) {
                if (data[i] == '\n') {
                    take(new String(data, lineStart, i - lineStart, StandardCharsets.UTF_8));
                    lineStart = i + 1;
                }
            }
            partial = Arrays.copyOfRange(data, lineStart, data.length);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private void take(String line) {
        if (isStart(line)) {
            starts++;
            if (keepRoutine) {
                kept.add(line);
            }
            return;
        }
        if (isEnd(line)) {
            ends++;
            if (line.endsWith(" outcome=ok") && !keepRoutine) {
                return;
            }
        }
        kept.add(line);
    }

    /** The kept lines so far (after a refresh). */
    synchronized List<String> lines() {
        refresh();
        return List.copyOf(kept);
    }

    /** How many lines are kept so far: a mark for {@link #await} and {@link #linesSince}. */
    synchronized int mark() {
        refresh();
        return kept.size();
    }

    synchronized List<String> linesSince(int mark) {
        refresh();
        return List.copyOf(kept.subList(mark, kept.size()));
    }

    synchronized long count(Predicate<String> matcher) {
        refresh();
        return kept.stream().filter(matcher).count();
    }

    synchronized long startLines() {
        refresh();
        return starts;
    }

    synchronized long endLines() {
        refresh();
        return ends;
    }


    /**
     * Waits until {@code count} kept lines after {@code mark} match; returns them. Fails with the last lines of
     * the log when the time is up.
     */
    List<String> await(Predicate<String> matcher, int mark, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> matching = linesSince(mark).stream().filter(matcher).toList();
            if (matching.size() >= count) {
                return matching;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " matching lines in " + file + " within " + timeout
                        + ", found " + matching.size() + "\n" + tail());
            }
            pause(Duration.ofMillis(20));
        }
    }

    /** The first kept line after {@code mark} that matches, waiting up to {@code timeout}. */
    String awaitLine(Predicate<String> matcher, int mark, Duration timeout) {
        return await(matcher, mark, 1, timeout).get(0);
    }

    /** The last kept lines, for failure messages. */
    String tail() {
        List<String> lines = lines();
        return "--- last kept lines of " + file + " ---\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
