package dev.chainsocks.config;

import dev.chainsocks.syntax.DurationSyntax;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code [timeouts]} table; a chain may override {@code connect} and {@code handshake}.
 *
 * @param connect   TCP connect to the first hop, per attempt
 * @param handshake each hop's handshake
 * @param dial      the whole chain, all hops, from the first connect to the last reply
 * @param idle      an established relay with no bytes in either direction is closed after this
 * @param keepalive TCP keepalive on both sides, or empty for the kernel's default (off)
 */
public record TimeoutsConfig(Duration connect, Duration handshake, Duration dial, Duration idle,
                             Optional<KeepaliveConfig> keepalive) {

    /** 10s connect, 10s handshake, 30s dial, 5m idle. */
    public static final TimeoutsConfig DEFAULTS = new TimeoutsConfig(Duration.ofSeconds(10), Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofMinutes(5));

    /** Checks that every timeout is positive. */
    public TimeoutsConfig {
        Objects.requireNonNull(keepalive, "keepalive");
        positive("connect", connect);
        positive("handshake", handshake);
        positive("dial", dial);
        positive("idle", idle);
    }

    /** Without keepalive. */
    public TimeoutsConfig(Duration connect, Duration handshake, Duration dial, Duration idle) {
        this(connect, handshake, dial, idle, Optional.empty());
    }

    /** A copy with the connect and handshake timeouts replaced, as a chain's overrides do. */
    public TimeoutsConfig withConnectAndHandshake(Duration newConnect, Duration newHandshake) {
        return new TimeoutsConfig(newConnect, newHandshake, dial, idle, keepalive);
    }

    private static void positive(String what, Duration d) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " timeout must be positive: " + d);
        }
    }

    @Override
    public String toString() {
        return "timeouts connect " + DurationSyntax.format(connect) + ", handshake " + DurationSyntax.format(handshake)
                + ", dial " + DurationSyntax.format(dial) + ", idle " + DurationSyntax.format(idle)
                + keepalive.map(k -> ", " + k).orElse("");
    }
}
