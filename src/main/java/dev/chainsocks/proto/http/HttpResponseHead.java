package dev.chainsocks.proto.http;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** An HTTP/1.x status line and header fields (RFC 9112 section 4), without the body. */
public record HttpResponseHead(String version, int status, String reason, List<HttpHeader> headers) {

    public HttpResponseHead {
        Objects.requireNonNull(version, "version");
        reason = reason == null ? "" : reason;
        headers = List.copyOf(headers);
        if (!HttpCodec.isVersion(version)) {
            throw new IllegalArgumentException("not an HTTP/1.x version: \"" + version + "\"");
        }
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("HTTP status must be three digits: " + status);
        }
        if (HttpCodec.firstControlCharacter(reason) >= 0) {
            throw new IllegalArgumentException("HTTP reason phrase contains a control character");
        }
    }

    public Optional<String> header(String name) {
        return headers.stream().filter(h -> h.is(name)).map(HttpHeader::value).findFirst();
    }

    /** {@code HTTP 407 Proxy Authentication Required}: how a client names this answer in errors. */
    public String describe() {
        return "HTTP " + status + (reason.isEmpty() ? "" : " " + reason);
    }

    @Override
    public String toString() {
        return version + " " + status + (reason.isEmpty() ? "" : " " + reason);
    }
}
