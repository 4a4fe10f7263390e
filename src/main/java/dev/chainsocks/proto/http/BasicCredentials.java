package dev.chainsocks.proto.http;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * A user and password in the Basic scheme (RFC 7617): {@code Basic base64(user ":" password)}, UTF-8. The user
 * cannot contain a colon; the password can.
 */
record BasicCredentials(String user, String password) {

    BasicCredentials {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        if (user.indexOf(':') >= 0) {
            throw new IllegalArgumentException("a Basic user name cannot contain ':'");
        }
    }

    /** The header value, {@code Basic dXNlcjpwYXNz}. */
    String headerValue() {
        return "Basic " + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** The credentials of a {@code Proxy-Authorization} value, or empty when it is not well-formed Basic. */
    static Optional<BasicCredentials> parse(String headerValue) {
        String[] parts = headerValue.strip().split("[ \t]+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Basic")) {
            return Optional.empty();
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(parts[1].strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int colon = decoded.indexOf(':');
        return colon < 0
                ? Optional.empty()
                : Optional.of(new BasicCredentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
    }

    @Override
    public String toString() {
        return "Basic credentials for " + user;
    }
}
