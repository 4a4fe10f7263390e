package dev.chainsocks.proto.http;

import dev.chainsocks.proto.Destination;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The answer to a plain-HTTP client whose connection could not be opened through the proxies (redsocks'
 * {@code on_proxy_fail = forward_http_err}): a complete {@code 502 Bad Gateway} response with a short HTML page
 * and {@code Connection: close}. It names the destination the client asked for and nothing about the proxies.
 */
public final class HttpErrorPage {

    private HttpErrorPage() {
    }

    /** The response, head and body, in read mode. */
    public static ByteBuffer badGateway(Destination destination) {
        String body = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad"
                + " Gateway</h1>\n<p>The proxy chain could not reach " + escape(destination.toString())
                + ".</p>\n</body></html>\n";
        byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
        ByteBuffer head = HttpCodec.encodeResponseHead(new HttpResponseHead("HTTP/1.1", 502, "Bad Gateway", List.of(
                new HttpHeader("Content-Type", "text/html; charset=utf-8"),
                new HttpHeader("Content-Length", String.valueOf(bodyBytes.length)),
                new HttpHeader("Cache-Control", "no-store"),
                new HttpHeader("Connection", "close"))));
        return ByteBuffer.allocate(head.remaining() + bodyBytes.length).put(head).put(bodyBytes).flip();
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
