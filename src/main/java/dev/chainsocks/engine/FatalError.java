package dev.chainsocks.engine;

import org.tinylog.Logger;
import org.tinylog.provider.ProviderRegistry;

/**
 * What happens when an event loop cannot go on: the process ends. A loop that stopped while the process lived
 * would leave its listeners and sessions dead behind a service that still looks up (that is how an
 * {@code OutOfMemoryError} once left every client with "connection refused" and a green status). Ending the process
 * lets systemd's {@code Restart=on-failure} bring up a clean one.
 */
public final class FatalError {

    /** EX_SOFTWARE from sysexits.h: an internal error. */
    public static final int EXIT_STATUS = 70;

    private FatalError() {
    }

    /** Logs one line (and the stack trace) and halts the JVM; never returns. */
    static void exit(String what, Throwable cause) {
        try {
            Logger.error(cause, "{}; ending the process (exit status {}) so that it can be restarted", what,
                    EXIT_STATUS);
        } catch (Throwable ignored) {
            // logging itself may be what ran out of memory: stderr below still says why
        }
        try {
            // Lines already logged are written by a thread of their own: give it a moment to write them.
            ProviderRegistry.getLoggingProvider().shutdown();
        } catch (Throwable ignored) {
            // as above
        }
        try {
            System.err.println("chainsocks: " + what + ": " + cause + "; exit status " + EXIT_STATUS);
            System.err.flush();
        } finally {
            // halt, not exit: shutdown hooks would wait on the loops that are already broken
            Runtime.getRuntime().halt(EXIT_STATUS);
        }
    }
}
