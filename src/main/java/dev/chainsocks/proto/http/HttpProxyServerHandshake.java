package dev.chainsocks.proto.http;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.OutboundBuffer;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerHandshake;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.ServerOutcome.Command;
import dev.chainsocks.proto.ServerOutcome.ProxyProtocol;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The server side of an HTTP/1.x proxy: CONNECT tunnels and plain forwarding of absolute-form requests.
 *
 * <ul>
 *   <li>{@code CONNECT host:port} (RFC 9110 section 9.3.6) gives {@link Command#CONNECT}. {@code reply(SUCCEEDED)}
 *       answers {@code 200 Connection established}; after it the connection is a tunnel.
 *   <li>An absolute-form request, {@code GET http://host[:port]/path} with any method (RFC 9112 section 3.2.2),
 *       gives {@link Command#HTTP_FORWARD}; {@link #forwardHead()} is the head to send to the origin: origin-form
 *       request line, {@code Host} from the URL (the section requires the URL to win over a received Host),
 *       hop-by-hop fields removed (RFC 9110 section 7.6.1: {@code Connection}, what it names,
 *       {@code Proxy-Connection}, {@code Keep-Alive}, {@code Proxy-Authorization}) and {@code Connection: close},
 *       so each connection carries one request and the origin's response ends the exchange. A successful reply
 *       writes nothing (the origin's response is relayed); a failure writes the error response.
 *   <li>{@code https://} in absolute form, origin-form ({@code GET /path}), a malformed or oversized head: 400 and
 *       {@link ServerOutcome.Rejected}.
 *   <li>When the {@link Authenticator} requires it, {@code Proxy-Authorization: Basic} (RFC 7617) must verify;
 *       otherwise 407 with {@code Proxy-Authenticate: Basic realm="chainsocks"} (RFC 9110 section 11.7.1) and
 *       {@link ServerOutcome.Rejected}.
 * </ul>
 *
 * Failure replies map {@link ReplyStatus} to 403 Forbidden (not allowed by ruleset), 504 Gateway Timeout (TTL
 * expired, i.e. timed out) or 502 Bad Gateway (everything else), with a short text body and
 * {@code Connection: close}. The request body, or tunnelled data sent early, stays in the input buffer.
 */
public final class HttpProxyServerHandshake implements ServerHandshake {

    /** The realm in {@code Proxy-Authenticate}. */
    public static final String REALM = "chainsocks";

    private static final Set<String> BODY_FRAMING = Set.of("content-length", "transfer-encoding");

    private final Authenticator authenticator;
    private final OutboundBuffer outbound = new OutboundBuffer();
    private ServerOutcome outcome;
    private ByteBuffer forwardHead;
    private boolean replied;

    public HttpProxyServerHandshake(Authenticator authenticator) {
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    }

    @Override
    public void receive(ByteBuffer in) {
        if (outcome != null) {
            return;
        }
        Decoded<HttpRequestHead> decoded = HttpCodec.decodeRequestHead(in);
        if (decoded instanceof Decoded.Malformed<HttpRequestHead> malformed) {
            reject(400, "Bad Request", malformed.reason(), List.of());
        } else if (decoded instanceof Decoded.Message<HttpRequestHead> message) {
            accept(message.message());
        }
    }

    private void accept(HttpRequestHead head) {
        String user = null;
        if (authenticator.required()) {
            Optional<BasicCredentials> credentials =
                    head.header("Proxy-Authorization").flatMap(BasicCredentials::parse);
            if (credentials.isEmpty() || !authenticator.verify(credentials.get().user(), credentials.get().password())) {
                reject(407, "Proxy Authentication Required", credentials
                                .map(c -> "proxy authentication failed for user \"" + c.user() + "\"")
                                .orElse("proxy authentication required, no Basic credentials given"),
                        List.of(new HttpHeader("Proxy-Authenticate", "Basic realm=\"" + REALM + "\"")));
                return;
            }
            user = credentials.get().user();
        }
        String target = head.target();
        String lowerTarget = target.toLowerCase(Locale.ROOT);
        try {
            if (head.method().equals("CONNECT")) {
                outcome = new ServerOutcome.Request(ProxyProtocol.HTTP, Command.CONNECT,
                        HttpAuthority.parse(target, -1), user);
            } else if (lowerTarget.startsWith("http://")) {
                outcome = forward(head, target.substring("http://".length()), user);
            } else if (lowerTarget.startsWith("https://")) {
                reject(400, "Bad Request", "https URL " + target + " must be tunnelled with CONNECT", List.of());
            } else {
                reject(400, "Bad Request", "request target \"" + target
                        + "\" is not an absolute http URL; this is a proxy", List.of());
            }
        } catch (IllegalArgumentException e) {
            reject(400, "Bad Request", "bad request target \"" + target + "\": " + e.getMessage(), List.of());
        }
    }

    private ServerOutcome forward(HttpRequestHead head, String afterScheme, String user) {
        int pathStart = indexOfAny(afterScheme, "/?#");
        String authority = pathStart < 0 ? afterScheme : afterScheme.substring(0, pathStart);
        String path = pathStart < 0 ? "/" : afterScheme.substring(pathStart);
        if (authority.indexOf('@') >= 0) {
            throw new IllegalArgumentException("user info in the URL is not forwarded");
        }
        int fragment = path.indexOf('#');
        path = fragment < 0 ? path : path.substring(0, fragment);
        path = path.startsWith("/") ? path : "/" + path;
        Destination destination = HttpAuthority.parse(authority, 80);

        Set<String> hopByHop = new HashSet<>(Set.of("connection", "proxy-connection", "keep-alive",
                "proxy-authorization", "host"));
        for (HttpHeader header : head.headers()) {
            if (header.is("Connection")) {
                for (String named : header.value().split(",")) {
                    hopByHop.add(named.strip().toLowerCase(Locale.ROOT));
                }
                hopByHop.removeAll(BODY_FRAMING); // never let a client strip how its body is delimited
            }
        }
        List<HttpHeader> headers = new ArrayList<>();
        headers.add(new HttpHeader("Host", authority));
        for (HttpHeader header : head.headers()) {
            if (!hopByHop.contains(header.name().toLowerCase(Locale.ROOT))) {
                headers.add(header);
            }
        }
        headers.add(new HttpHeader("Connection", "close"));
        forwardHead = HttpCodec.encodeRequestHead(new HttpRequestHead(head.method(), path, head.version(), headers))
                .asReadOnlyBuffer();
        return new ServerOutcome.Request(ProxyProtocol.HTTP, Command.HTTP_FORWARD, destination, user);
    }

    private static int indexOfAny(String text, String characters) {
        for (int i = 0; i < text.length(); i++) {
            if (characters.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The request head to send to the origin for {@link Command#HTTP_FORWARD}; then relay the request body (still
     * in the input buffer) and everything after it. A fresh read-mode buffer on each call.
     *
     * @throws IllegalStateException unless the outcome is an HTTP_FORWARD request
     */
    public ByteBuffer forwardHead() {
        if (forwardHead == null) {
            throw new IllegalStateException("no request to forward, outcome is " + outcome);
        }
        return forwardHead.duplicate();
    }

    private void reject(int status, String reason, String why, List<HttpHeader> extraHeaders) {
        respondWithError(status, reason, why, extraHeaders);
        outcome = new ServerOutcome.Rejected(why);
    }

    private void respondWithError(int status, String reason, String why, List<HttpHeader> extraHeaders) {
        byte[] body = ("chainsocks: " + why + "\n").getBytes(StandardCharsets.UTF_8);
        List<HttpHeader> headers = new ArrayList<>(extraHeaders);
        headers.add(new HttpHeader("Content-Type", "text/plain; charset=utf-8"));
        headers.add(new HttpHeader("Content-Length", Integer.toString(body.length)));
        headers.add(new HttpHeader("Connection", "close"));
        outbound.append(HttpCodec.encodeResponseHead(new HttpResponseHead("HTTP/1.1", status, reason, headers)));
        outbound.append(ByteBuffer.wrap(body));
    }

    @Override
    public ByteBuffer outbound() {
        return outbound.buffer();
    }

    @Override
    public ServerOutcome outcome() {
        return outcome;
    }

    /**
     * Answers the request once. {@code bound} is not reported: HTTP has no place for it.
     *
     * @throws IllegalStateException before a request, after a rejection, or on a second call
     */
    @Override
    public void reply(ReplyStatus status, Destination bound) {
        if (!(outcome instanceof ServerOutcome.Request request)) {
            throw new IllegalStateException("no request to reply to, outcome is " + outcome);
        }
        if (replied) {
            throw new IllegalStateException("an HTTP request is answered once");
        }
        replied = true;
        if (status == ReplyStatus.SUCCEEDED) {
            if (request.command() == Command.CONNECT) {
                outbound.append(HttpCodec.encodeResponseHead(
                        new HttpResponseHead("HTTP/1.1", 200, "Connection established", List.of())));
            }
            return;
        }
        String why = "cannot reach " + request.destination() + ": "
                + status.name().toLowerCase(Locale.ROOT).replace('_', ' ');
        switch (status) {
            case NOT_ALLOWED_BY_RULESET -> respondWithError(403, "Forbidden", why, List.of());
            case TTL_EXPIRED -> respondWithError(504, "Gateway Timeout", why, List.of());
            default -> respondWithError(502, "Bad Gateway", why, List.of());
        }
    }

    @Override
    public String toString() {
        return "http server handshake" + (outcome == null ? "" : ", " + outcome);
    }
}
