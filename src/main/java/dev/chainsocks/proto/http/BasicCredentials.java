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

    private static final String SCHEME = "Basic";

    BasicCredentials {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        if (user.indexOf(':') >= 0) {
            throw new IllegalArgumentException("a Basic user name cannot contain ':'");
        }
    }

    /** The header value, {@code Basic dXNlcjpwYXNz}. */
    String headerValue() {
        return SCHEME + " " + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** The credentials of a {@code Proxy-Authorization} value, or empty when it is not well-formed Basic. */
    static Optional<BasicCredentials> parse(String headerValue) {
        String value = headerValue.strip();
        int schemeEnd = SCHEME.length();
        if (value.length() <= schemeEnd || !value.regionMatches(true, 0, SCHEME, 0, schemeEnd)
                || !isBlank(value.charAt(schemeEnd))) {
            return Optional.empty();
        }
        int tokenStart = schemeEnd;
        while (isBlank(value.charAt(tokenStart))) { // stripped: the value does not end in blanks
            tokenStart++;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(value.substring(tokenStart).strip()),
                    StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int colon = decoded.indexOf(':');
        return colon < 0
                ? Optional.empty()
                : Optional.of(new BasicCredentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
    }

    /** The whitespace between the scheme and the token (RFC 9110 section 5.6.3, 1*SP; HTAB is accepted too). */
    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    @Override
    public String toString() {
        return "Basic credentials for " + user;
    }
}
