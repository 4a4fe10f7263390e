package dev.chainsocks.server;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls for a condition that another thread makes true, with a deadline instead of a sleep. */
final class Eventually {

    private Eventually() {
    }

    static void until(Duration deadline, BooleanSupplier condition, Supplier<String> whatWasExpected) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within " + deadline + ": " + whatWasExpected.get());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + whatWasExpected.get(), e);
            }
        }
    }

    /** The server's sessions all ended: the count of open client connections is back to 0. */
    static void noActiveSessions(SocksServer server) {
        until(Duration.ofSeconds(10), () -> server.activeConnections() == 0,
                () -> "active connections back to 0, still " + server.activeConnections());
    }
}
