package dev.chainsocks.log;

import java.time.Duration;
import java.util.Map;
import org.tinylog.core.LogEntry;
import org.tinylog.writers.AbstractFormatPatternWriter;

/**
 * Writes each line to standard error through the process's {@link LineSink}: the caller formats the line and
 * returns at once; the {@code log-writer} thread writes. Selected as {@code stderr}; {@link JournaldWriter} is the
 * same with journald's priority prefixes.
 */
public class StderrWriter extends AbstractFormatPatternWriter {

    /** How much may wait for standard error before lines are dropped (and counted). */
    static final int BUFFER_BYTES = 1 << 20;
    /** How long closing (at exit) waits for the buffered lines to be written. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private static LineSink sink;

    public StderrWriter() {
        this(Map.of());
    }

    public StderrWriter(Map<String, String> properties) {
        super(properties);
    }

    /** The one sink on standard error, created on first use with the {@code System.err} of that moment. */
    static synchronized LineSink sink() {
        if (sink == null) {
            sink = new LineSink(System.err, BUFFER_BYTES);
        }
        return sink;
    }

    /** The line as it goes out; the journald writer adds priorities. */
    String line(LogEntry entry) {
        String rendered = render(entry);
        return rendered.endsWith("\n") ? rendered : rendered + "\n";
    }

    @Override
    public final void write(LogEntry entry) {
        sink().offer(line(entry));
    }

    @Override
    public final void flush() {
        // the log-writer thread writes and flushes each batch by itself
    }

    @Override
    public final void close() {
        sink().drain(CLOSE_WAIT);
    }
}
