package dev.chainsocks.engine;

/** How a {@link Relay} moves bytes from one socket to the other. */
public enum RelayMode {
    /**
     * {@code splice(2)} through a kernel pipe borrowed from the loop's pool while bytes are in flight: the bytes
     * never enter the JVM. Where the kernel refuses, the loop falls back to {@link #COPY} and says so once.
     */
    SPLICE,
    /** {@code read} into a pooled direct buffer and {@code write} from it. */
    COPY
}
