package dev.chainsocks.config;

import dev.chainsocks.syntax.SizeSyntax;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code [relay]} table: how established connections move bytes.
 *
 * @param mode   {@code splice}: zero-copy through kernel pipes, falling back to {@code copy} where the kernel refuses;
 *               {@code copy}: read and write through buffers in the JVM
 * @param memory bytes in flight for all connections together (buffers in copy mode, pipes in splice mode); when it
 *               is spent, connections move only what their peer takes at once and hold nothing
 */
public record RelayConfig(Mode mode, long memory) {

    /** Smallest budget accepted: one pipe or buffer per direction of a few connections. */
    public static final long MIN_MEMORY = 1L << 20;
    /** Largest budget accepted. */
    public static final long MAX_MEMORY = 64L << 30;
    /** splice, 32 MiB. */
    public static final RelayConfig DEFAULTS = new RelayConfig(Mode.SPLICE, 32L << 20);

    /** Checks the range. */
    public RelayConfig {
        Objects.requireNonNull(mode, "mode");
        if (memory < MIN_MEMORY || memory > MAX_MEMORY) {
            throw new IllegalArgumentException("relay memory must be 1MiB..64GiB: " + memory);
        }
    }

    /** The {@code mode} values. */
    public enum Mode {
        /** {@code splice(2)} through pipes borrowed while bytes are in flight. */
        SPLICE("splice"),
        /** {@code read}/{@code write} through buffers. */
        COPY("copy");

        private final String configName;

        Mode(String configName) {
            this.configName = configName;
        }

        /** The name used in the configuration file. */
        public String configName() {
            return configName;
        }

        /** The mode for a configuration name, ignoring case; empty when unknown. */
        public static Optional<Mode> fromConfigName(String name) {
            String lower = name.toLowerCase(Locale.ROOT);
            return Arrays.stream(values()).filter(m -> m.configName.equals(lower)).findFirst();
        }

        @Override
        public String toString() {
            return configName;
        }
    }

    @Override
    public String toString() {
        return "relay mode " + mode + ", memory " + SizeSyntax.format(memory);
    }
}
