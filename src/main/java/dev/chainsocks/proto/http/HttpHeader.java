package dev.chainsocks.proto.http;

import java.util.Objects;

/**
 * One header field, {@code name: value} (RFC 9112 section 5). The name is a token; the value holds no CR, LF, NUL
 * or other control character except HTAB, so a header can never split a head (no header injection).
 */
public record HttpHeader(String name, String value) {

    public HttpHeader {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (!HttpCodec.isToken(name)) {
            throw new IllegalArgumentException("HTTP header name is not a token: \"" + name + "\"");
        }
        int bad = HttpCodec.firstControlCharacter(value);
        if (bad >= 0) {
            throw new IllegalArgumentException("HTTP header " + name + " value contains control character "
                    + String.format("0x%02x", (int) value.charAt(bad)));
        }
    }

    public boolean is(String headerName) {
        return name.equalsIgnoreCase(headerName);
    }

    @Override
    public String toString() {
        return name + ": " + (is("Proxy-Authorization") || is("Authorization") ? "(hidden)" : value);
    }
}
