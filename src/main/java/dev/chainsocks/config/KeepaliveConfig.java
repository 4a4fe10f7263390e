package dev.chainsocks.config;

import dev.chainsocks.syntax.DurationSyntax;
import java.time.Duration;
import java.util.Objects;

/**
 * TCP keepalive on both sides of every relayed connection (the client's socket and the upstream socket):
 * {@code SO_KEEPALIVE} with {@code TCP_KEEPIDLE}, {@code TCP_KEEPINTVL} and {@code TCP_KEEPCNT}, as redsocks'
 * {@code tcp_keepalive_time}, {@code _intvl} and {@code _probes}. The kernel takes whole seconds.
 *
 * @param idle     quiet time before the first probe, 1s..32767s
 * @param interval time between probes, 1s..32767s
 * @param count    unanswered probes before the connection is dropped, 1..127
 */
public record KeepaliveConfig(Duration idle, Duration interval, int count) {

    /** Linux's own defaults for the interval and count: 75s and 9. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(75);
    public static final int DEFAULT_COUNT = 9;
    /** The largest value the kernel takes for TCP_KEEPIDLE and TCP_KEEPINTVL, in seconds. */
    public static final long MAX_SECONDS = 32767;
    /** The largest TCP_KEEPCNT. */
    public static final int MAX_COUNT = 127;

    /** Checks the ranges. */
    public KeepaliveConfig {
        seconds("idle", idle);
        seconds("interval", interval);
        if (count < 1 || count > MAX_COUNT) {
            throw new IllegalArgumentException("keepalive count must be 1.." + MAX_COUNT + ": " + count);
        }
    }

    /** Whether a duration is whole seconds within 1s..32767s. */
    public static boolean validSeconds(Duration d) {
        return d.toNanos() % 1_000_000_000L == 0 && d.getSeconds() >= 1 && d.getSeconds() <= MAX_SECONDS;
    }

    private static void seconds(String what, Duration d) {
        Objects.requireNonNull(d, what);
        if (!validSeconds(d)) {
            throw new IllegalArgumentException("keepalive " + what + " must be whole seconds, 1s.." + MAX_SECONDS
                    + "s: " + d);
        }
    }

    @Override
    public String toString() {
        return "keepalive idle " + DurationSyntax.format(idle) + " interval " + DurationSyntax.format(interval)
                + " count " + count;
    }
}
