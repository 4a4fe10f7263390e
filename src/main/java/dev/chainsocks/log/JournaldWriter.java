package dev.chainsocks.log;

import java.util.Map;
import org.tinylog.Level;
import org.tinylog.core.LogEntry;

/**
 * Writes each line to standard error with the {@code <N>} syslog priority prefix that journald reads from a
 * service's output stream (sd-daemon(3)): 3 error, 4 warning, 6 info, 7 debug and trace. tinylog's own
 * {@code {level-code}} is its enum ordinal, not this number, hence this writer. Selected as {@code journald}.
 */
public final class JournaldWriter extends StderrWriter {

    public JournaldWriter() {
        this(Map.of());
    }

    public JournaldWriter(Map<String, String> properties) {
        super(properties);
    }

    static int priority(Level level) {
        return switch (level) {
            case ERROR -> 3;
            case WARN -> 4;
            case INFO -> 6;
            case DEBUG, TRACE, OFF -> 7;
        };
    }

    @Override
    String line(LogEntry entry) {
        String rendered = render(entry);
        StringBuilder line = new StringBuilder(rendered.length() + 8);
        String prefix = "<" + priority(entry.getLevel()) + ">";
        // Every physical line needs the prefix, or journald files continuation lines (stack traces) as info.
        int start = 0;
        while (start < rendered.length()) {
            int newline = rendered.indexOf('\n', start);
            int end = newline < 0 ? rendered.length() : newline + 1;
            line.append(prefix).append(rendered, start, end);
            start = end;
        }
        if (line.length() == 0 || line.charAt(line.length() - 1) != '\n') {
            line.append('\n');
        }
        return line.toString();
    }
}
