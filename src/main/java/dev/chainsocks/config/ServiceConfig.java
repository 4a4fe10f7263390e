package dev.chainsocks.config;

import dev.chainsocks.syntax.DurationSyntax;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.tinylog.Level;

/**
 * The {@code [service]} table: process-wide settings.
 *
 * @param logLevel       least severe level logged: ERROR, WARN, INFO, DEBUG or TRACE
 * @param maxConnections concurrent relayed connections (client and upstream side count as one), at least 1
 * @param controlSocket  the Unix socket {@code chainsocks status} talks to, an absolute path; empty when the file
 *                       does not set it, and the default for the environment applies
 *                       ({@code dev.chainsocks.control.ControlSocketLocation})
 * @param mark           SO_MARK for every upstream socket, 1..2^32-1, so firewall rules can exempt our own traffic
 * @param shutdownGrace  after SIGTERM, how long live relays may drain before they are closed
 */
public record ServiceConfig(Level logLevel, int maxConnections, Optional<Path> controlSocket, OptionalLong mark,
                            Duration shutdownGrace) {

    /** Default log level. */
    public static final Level DEFAULT_LOG_LEVEL = Level.INFO;
    /** Default connection limit. */
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    /** Default drain time at shutdown. */
    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);

    /** Checks ranges. */
    public ServiceConfig {
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(controlSocket, "controlSocket");
        Objects.requireNonNull(mark, "mark");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
        }
        if (mark.isPresent() && (mark.getAsLong() < 1 || mark.getAsLong() > 0xffff_ffffL)) {
            throw new IllegalArgumentException("mark must be 1..4294967295: " + mark.getAsLong());
        }
        if (shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("shutdownGrace must not be negative: " + shutdownGrace);
        }
    }

    /** Every setting at its default. */
    public static ServiceConfig defaults() {
        return new ServiceConfig(DEFAULT_LOG_LEVEL, DEFAULT_MAX_CONNECTIONS, Optional.empty(),
                OptionalLong.empty(), DEFAULT_SHUTDOWN_GRACE);
    }

    /** The mark in hex, as iptables and nft print it: {@code 0x2a}. */
    public static String hex(long mark) {
        return "0x" + Long.toHexString(mark);
    }

    @Override
    public String toString() {
        return "service log-level " + logLevel.name().toLowerCase(java.util.Locale.ROOT) + ", max-connections "
                + maxConnections + controlSocket.map(path -> ", control-socket " + path).orElse("")
                + (mark.isPresent() ? ", mark " + hex(mark.getAsLong()) : "")
                + ", shutdown-grace " + DurationSyntax.format(shutdownGrace);
    }
}
