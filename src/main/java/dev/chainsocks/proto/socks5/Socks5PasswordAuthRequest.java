package dev.chainsocks.proto.socks5;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The RFC 1929 (section 2) sub-negotiation request, {@code VER=1 ULEN UNAME PLEN PASSWD}: username and password
 * are each 1..255 bytes (UTF-8 here). {@link #toString()} never shows the password.
 */
public record Socks5PasswordAuthRequest(String username, String password) {

    public Socks5PasswordAuthRequest {
        checkLength("username", username);
        checkLength("password", password);
    }

    private static void checkLength(String field, String value) {
        Objects.requireNonNull(value, field);
        int length = value.getBytes(StandardCharsets.UTF_8).length;
        if (length < 1 || length > 255) {
            throw new IllegalArgumentException("RFC 1929 " + field + " must be 1..255 bytes, got " + length);
        }
    }

    @Override
    public String toString() {
        return "SOCKS5 password authentication for user " + username;
    }
}
