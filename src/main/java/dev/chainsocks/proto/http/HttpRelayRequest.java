package dev.chainsocks.proto.http;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Plain HTTP relayed through a forwarding proxy (redsocks' {@code http-relay}), for proxies that refuse CONNECT to
 * port 80: the intercepted client's own HTTP/1 request head, read from the client, is rewritten for the proxy and
 * sent ahead of the rest of the client's bytes.
 *
 * <ul>
 *   <li>A target in origin form ({@code GET /path HTTP/1.1}) becomes absolute form
 *       ({@code GET http://host:port/path HTTP/1.1}). The host is the one the client named in its {@code Host}
 *       header (the proxy resolves it, as it would for a browser configured to use it), or the original
 *       destination's address when there is no usable {@code Host}; the port is always the original destination's.
 *       A target already in absolute form is kept.
 *   <li>Hop-by-hop headers ({@code Connection}, {@code Proxy-Connection}, {@code Keep-Alive}, {@code TE},
 *       {@code Upgrade}, and those named by {@code Connection}) and any {@code Proxy-Authorization} the client sent
 *       are dropped; {@code Connection: close} is added, so the proxy ends the connection after its answer and the
 *       client opens a new one (and so a new rewrite) for its next request. With credentials, our
 *       {@code Proxy-Authorization: Basic ...} is added, and so are any extra headers given.
 *   <li>{@code CONNECT}, the asterisk form ({@code OPTIONS *}), a non-HTTP scheme and anything that is not an
 *       HTTP/1 request head are refused with a reason.
 * </ul>
 *
 * <p>{@link #receive} consumes exactly the request head; the body that follows stays in the buffer.
 */
public final class HttpRelayRequest {

    /** What became of the client's request head. */
    public sealed interface Outcome {
        /** The head to send to the proxy, in read mode, and the client's request as received. */
        record Rewritten(ByteBuffer head, HttpRequestHead received) implements Outcome {
            @Override
            public String toString() {
                return "rewritten " + received.method() + " " + received.target();
            }
        }

        /** The client's bytes cannot be relayed as plain HTTP. */
        record Refused(String reason) implements Outcome {
            @Override
            public String toString() {
                return "refused: " + reason;
            }
        }
    }

    private static final Set<String> HOP_BY_HOP = Set.of("connection", "proxy-connection", "keep-alive", "te",
            "trailer", "upgrade", "proxy-authorization", "proxy-authenticate");

    private final Destination destination;
    private final BasicCredentials credentials;
    private final List<HttpHeader> extraHeaders;
    private Outcome outcome;

    /**
     * @param destination  where the client was going (the original destination)
     * @param user         proxy user for Basic authentication, or null
     * @param password     its password (null is empty)
     * @param extraHeaders added after the client's headers, such as {@code X-Forwarded-For}
     * @throws IllegalArgumentException when the user contains ':'
     */
    public HttpRelayRequest(Destination destination, String user, String password, List<HttpHeader> extraHeaders) {
        this.destination = Objects.requireNonNull(destination, "destination");
        this.credentials = user == null ? null : new BasicCredentials(user, password == null ? "" : password);
        this.extraHeaders = List.copyOf(extraHeaders);
    }

    /** Reads as much of the request head as {@code in} holds; consumes nothing until the head is complete. */
    public void receive(ByteBuffer in) {
        if (outcome != null) {
            return;
        }
        Decoded<HttpRequestHead> decoded = HttpCodec.decodeRequestHead(in);
        if (decoded instanceof Decoded.Malformed<HttpRequestHead> bad) {
            outcome = new Outcome.Refused(bad.reason());
        } else if (decoded instanceof Decoded.Message<HttpRequestHead> message) {
            outcome = rewrite(message.message());
        }
    }

    /** Whether the head was read (or refused). */
    public boolean isFinished() {
        return outcome != null;
    }

    /** The outcome, or null while the head is incomplete. */
    public Outcome outcome() {
        return outcome;
    }

    private Outcome rewrite(HttpRequestHead request) {
        if (!request.version().startsWith("HTTP/1.")) {
            return new Outcome.Refused("HTTP request: version " + request.version() + " cannot be relayed");
        }
        if (request.method().equals("CONNECT")) {
            return new Outcome.Refused("HTTP request: CONNECT cannot be relayed as plain HTTP");
        }
        String target = request.target();
        String absolute;
        if (target.startsWith("/")) {
            absolute = "http://" + host(request) + ":" + destination.port() + target;
        } else if (target.regionMatches(true, 0, "http://", 0, 7)) {
            absolute = target;
        } else {
            return new Outcome.Refused("HTTP request: target \"" + target + "\" is neither a path nor an http://"
                    + " URL");
        }
        List<String> named = new ArrayList<>();
        for (HttpHeader header : request.headers()) {
            if (header.is("Connection")) {
                for (String token : header.value().split(",")) {
                    named.add(token.strip().toLowerCase(Locale.ROOT));
                }
            }
        }
        List<HttpHeader> headers = new ArrayList<>();
        for (HttpHeader header : request.headers()) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name) && !named.contains(name)) {
                headers.add(header);
            }
        }
        headers.add(new HttpHeader("Connection", "close"));
        if (credentials != null) {
            headers.add(new HttpHeader("Proxy-Authorization", credentials.headerValue()));
        }
        headers.addAll(extraHeaders);
        HttpRequestHead rewritten = new HttpRequestHead(request.method(), absolute, request.version(), headers);
        return new Outcome.Rewritten(HttpCodec.encodeRequestHead(rewritten), request);
    }

    /** The Host header's host when it is a valid authority, else the destination's address. */
    private String host(HttpRequestHead request) {
        return request.header("Host").flatMap(value -> {
            try {
                return Optional.of(HttpAuthority.parse(value.strip(), destination.port()).hostString());
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }).orElse(destination.hostString());
    }

    @Override
    public String toString() {
        return "http-relay request to " + destination + (outcome == null ? "" : " " + outcome);
    }
}
