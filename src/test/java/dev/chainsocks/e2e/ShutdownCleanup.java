package dev.chainsocks.e2e;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Last-resort cleanup when the JVM exits with namespaces, processes or users still registered: a test killed by a
 * timeout, or a failure in {@code @BeforeAll} before anything could be closed. Normal runs close everything themselves
 * and this finds nothing to do.
 */
final class ShutdownCleanup {

    private static final Deque<AutoCloseable> OPEN = new ArrayDeque<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ShutdownCleanup::closeAll, "e2e-shutdown-cleanup"));
    }

    private ShutdownCleanup() {
    }

    static synchronized void register(AutoCloseable resource) {
        OPEN.push(resource);
    }

    static synchronized void unregister(AutoCloseable resource) {
        OPEN.remove(resource);
    }

    /** Namespaces (and the processes in them) first: an account cannot be deleted while a process still uses it. */
    private static void closeAll() {
        closeAll(false);
        closeAll(true);
    }

    private static void closeAll(boolean users) {
        while (true) {
            AutoCloseable next;
            synchronized (ShutdownCleanup.class) {
                next = OPEN.stream().filter(r -> (r instanceof SystemUser) == users).findFirst().orElse(null);
                OPEN.remove(next);
            }
            if (next == null) {
                return;
            }
            try {
                next.close();
            } catch (Exception e) {
                System.err.println("e2e cleanup: could not close " + next + ": " + e);
            }
        }
    }
}
