package dev.chainsocks.proto.http;

import dev.chainsocks.proto.ClientHandshake;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.OutboundBuffer;
import dev.chainsocks.proto.ReplyStatus;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The client side of an HTTP CONNECT tunnel (RFC 9110 section 9.3.6):
 * {@code CONNECT host:port HTTP/1.1}, {@code Host: host:port} and, with credentials, {@code Proxy-Authorization:
 * Basic ...} (RFC 7617). IPv6 hosts are bracketed; names go to the proxy unresolved.
 *
 * <p>The answer's head is read up to its empty line ({@link HttpCodec#MAX_HEAD_BYTES} at most); whatever follows
 * is tunnelled data and stays in the buffer. Interim 1xx responses are skipped. Any 2xx is
 * {@link HandshakeOutcome.Granted} with the destination as bound address (HTTP reports none); 407 (or 401 after
 * we sent credentials) is
 * {@link HandshakeOutcome.AuthenticationFailed}; 403 is refused NOT_ALLOWED_BY_RULESET; 502 HOST_UNREACHABLE;
 * 503 CONNECTION_REFUSED (what Squid answers when the origin refuses); 504 TTL_EXPIRED (a timeout, as SOCKS5
 * servers report it); anything else GENERAL_FAILURE, with the code {@code "HTTP 500 Internal Server Error"}.
 */
public final class HttpConnectClientHandshake implements ClientHandshake {

    private final Destination destination;
    private final BasicCredentials credentials;
    private final OutboundBuffer outbound = new OutboundBuffer();
    private HandshakeOutcome outcome;

    public HttpConnectClientHandshake(Destination destination) {
        this(destination, null);
    }

    /**
     * With Basic proxy credentials.
     *
     * @throws IllegalArgumentException when the user contains ':'
     */
    public HttpConnectClientHandshake(Destination destination, String user, String password) {
        this(destination, new BasicCredentials(user, password), List.of());
    }

    /**
     * With optional Basic proxy credentials ({@code user} null for none) and extra request headers, such as
     * {@code X-Forwarded-For} naming the client.
     *
     * @throws IllegalArgumentException when the user contains ':'
     */
    public HttpConnectClientHandshake(Destination destination, String user, String password,
                                      List<HttpHeader> extraHeaders) {
        this(destination, user == null ? null : new BasicCredentials(user, password == null ? "" : password),
                extraHeaders);
    }

    private HttpConnectClientHandshake(Destination destination, BasicCredentials credentials) {
        this(destination, credentials, List.of());
    }

    private HttpConnectClientHandshake(Destination destination, BasicCredentials credentials,
                                       List<HttpHeader> extraHeaders) {
        this.destination = Objects.requireNonNull(destination, "destination");
        this.credentials = credentials;
        String authority = destination.toString(); // host:port, IPv6 bracketed
        List<HttpHeader> headers = new ArrayList<>();
        headers.add(new HttpHeader("Host", authority));
        if (credentials != null) {
            headers.add(new HttpHeader("Proxy-Authorization", credentials.headerValue()));
        }
        headers.addAll(extraHeaders);
        outbound.append(HttpCodec.encodeRequestHead(new HttpRequestHead("CONNECT", authority, "HTTP/1.1", headers)));
    }

    @Override
    public void receive(ByteBuffer in) {
        while (outcome == null) {
            Decoded<HttpResponseHead> decoded = HttpCodec.decodeResponseHead(in);
            if (decoded instanceof Decoded.Malformed<HttpResponseHead> malformed) {
                outcome = new HandshakeOutcome.ProtocolError(malformed.reason());
            } else if (decoded instanceof Decoded.Message<HttpResponseHead> message) {
                HttpResponseHead head = message.message();
                if (head.status() >= 200) {
                    outcome = outcomeOf(head);
                }
            } else {
                return;
            }
        }
    }

    private HandshakeOutcome outcomeOf(HttpResponseHead head) {
        int status = head.status();
        if (status < 300) {
            return new HandshakeOutcome.Granted(destination);
        }
        // Some proxies (tinyproxy) answer wrong Basic credentials with 401 rather than 407.
        if (status == 407 || (status == 401 && credentials != null)) {
            return new HandshakeOutcome.AuthenticationFailed(head.describe() + (credentials == null
                    ? ": the proxy requires credentials"
                    : ": the proxy rejected the credentials of " + credentials.user()));
        }
        return new HandshakeOutcome.Refused(replyStatus(status), head.describe());
    }

    static ReplyStatus replyStatus(int httpStatus) {
        return switch (httpStatus) {
            case 403 -> ReplyStatus.NOT_ALLOWED_BY_RULESET;
            case 502 -> ReplyStatus.HOST_UNREACHABLE;
            case 503 -> ReplyStatus.CONNECTION_REFUSED;
            case 504 -> ReplyStatus.TTL_EXPIRED;
            default -> ReplyStatus.GENERAL_FAILURE;
        };
    }

    @Override
    public ByteBuffer outbound() {
        return outbound.buffer();
    }

    @Override
    public HandshakeOutcome outcome() {
        return outcome;
    }

    @Override
    public String toString() {
        return "http CONNECT " + destination + (credentials == null ? "" : " as " + credentials.user());
    }
}
