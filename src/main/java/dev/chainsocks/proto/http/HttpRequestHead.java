package dev.chainsocks.proto.http;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An HTTP/1.x request line and header fields (RFC 9112 sections 3 and 5), without the body. For a proxy the target
 * is in authority form ({@code CONNECT host:port}) or absolute form ({@code GET http://host/path}).
 */
public record HttpRequestHead(String method, String target, String version, List<HttpHeader> headers) {

    public HttpRequestHead {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(version, "version");
        headers = List.copyOf(headers);
        if (!HttpCodec.isToken(method)) {
            throw new IllegalArgumentException("HTTP method is not a token: \"" + method + "\"");
        }
        if (target.isEmpty() || HttpCodec.firstControlCharacter(target) >= 0 || target.indexOf(' ') >= 0
                || target.indexOf('\t') >= 0) {
            throw new IllegalArgumentException("HTTP request target is empty or holds whitespace or controls: \""
                    + target + "\"");
        }
        if (!HttpCodec.isVersion(version)) {
            throw new IllegalArgumentException("not an HTTP/1.x version: \"" + version + "\"");
        }
    }

    /** The value of the first header of that name (case-insensitive). */
    public Optional<String> header(String name) {
        return headers.stream().filter(h -> h.is(name)).map(HttpHeader::value).findFirst();
    }

    @Override
    public String toString() {
        return method + " " + target + " " + version + " (" + headers.size() + " headers)";
    }
}
