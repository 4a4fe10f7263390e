package dev.chainsocks.proto.socks5;

import java.util.Objects;

/**
 * The server's answer to a greeting, {@code VER=5 METHOD} (RFC 1928 section 3). {@code NO_ACCEPTABLE_METHODS}
 * (0xff) means the client must close.
 */
public record Socks5MethodSelection(Socks5AuthMethod method) {

    public Socks5MethodSelection {
        Objects.requireNonNull(method, "method");
    }

    @Override
    public String toString() {
        return "SOCKS5 method selection " + method;
    }
}
