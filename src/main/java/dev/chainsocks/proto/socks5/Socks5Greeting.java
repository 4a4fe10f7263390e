package dev.chainsocks.proto.socks5;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The client's first message, {@code VER=5 NMETHODS METHODS...} (RFC 1928 section 3): 1..255 offered methods.
 * Methods are raw bytes because a client may legitimately offer methods this code does not know.
 */
public record Socks5Greeting(List<Integer> methods) {

    public Socks5Greeting {
        methods = List.copyOf(methods);
        if (methods.isEmpty() || methods.size() > 255) {
            throw new IllegalArgumentException("SOCKS5 greeting must offer 1..255 methods, got " + methods.size());
        }
        for (int method : methods) {
            if (method < 0 || method > 255) {
                throw new IllegalArgumentException("SOCKS5 method is not a byte: " + method);
            }
        }
    }

    public static Socks5Greeting of(Socks5AuthMethod... methods) {
        return new Socks5Greeting(Arrays.stream(methods).map(m -> m.byteValue() & 0xff).toList());
    }

    public boolean offers(Socks5AuthMethod method) {
        return methods.contains(method.byteValue() & 0xff);
    }

    /** {@code [NO_AUTHENTICATION(0x00), unknown(0x80)]}. */
    public String describeMethods() {
        return methods.stream().map(Socks5AuthMethod::describe).collect(Collectors.joining(", ", "[", "]"));
    }

    @Override
    public String toString() {
        return "SOCKS5 greeting offering " + describeMethods();
    }
}
