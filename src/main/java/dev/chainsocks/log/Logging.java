package dev.chainsocks.log;

import java.util.Locale;
import org.tinylog.configuration.Configuration;

/**
 * Sets up tinylog once, before the first log call: a human format on a terminal, journald priority prefixes when
 * systemd runs us (it sets {@code JOURNAL_STREAM}, and the journal adds its own timestamps).
 */
public final class Logging {

    private static final String HUMAN_FORMAT = "{date:yyyy-MM-dd HH:mm:ss.SSS} {level|min-size=5} [{thread}] {message}";
    private static final String JOURNAL_FORMAT = "[{thread}] {message}";

    private Logging() {
    }

    /** {@code level} is one of error, warn, info, debug, trace. Only the first call has an effect. */
    public static synchronized void configure(String level, boolean underJournald) {
        if (Configuration.isFrozen()) {
            return;
        }
        String normalized = level.toLowerCase(Locale.ROOT);
        Configuration.set("level", normalized);
        if (underJournald) {
            Configuration.set("writer", "journald");
            Configuration.set("writer.format", JOURNAL_FORMAT);
        } else {
            Configuration.set("writer", "stderr");
            Configuration.set("writer.format", HUMAN_FORMAT);
        }
        Configuration.set("writingthread", "false");
        Configuration.set("autoshutdown", "true");
    }

    /** Whether our standard error goes to the journal (systemd sets JOURNAL_STREAM for the service). */
    public static boolean stderrIsJournal() {
        return System.getenv("JOURNAL_STREAM") != null;
    }
}
