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

    private static void closeAll() {
        while (true) {
            AutoCloseable next;
            synchronized (ShutdownCleanup.class) {
                next = OPEN.poll();
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
