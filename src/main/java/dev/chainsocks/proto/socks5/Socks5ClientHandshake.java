package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.BlockingStep;
import dev.chainsocks.proto.ClientHandshake;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.GssapiException;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.OutboundBuffer;
import dev.chainsocks.proto.ProtectedClientHandshake;
import dev.chainsocks.proto.ProtectedStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The client side of SOCKS5 CONNECT or UDP ASSOCIATE (RFC 1928), with RFC 1929 username/password when credentials
 * are given, or GSS-API (RFC 1961, see {@link Socks5GssapiInitiator}) when a security context is given. For UDP
 * ASSOCIATE the destination is the address the client will send datagrams from (RFC 1928 lets it be all zeros when
 * unknown) and the granted bound address is the relay's UDP address.
 *
 * <p>Greeting: offers NO_AUTHENTICATION, plus USERNAME_PASSWORD when credentials are given. The server's selection
 * is followed; a method we did not offer is a protocol error and NO_ACCEPTABLE_METHODS (0xff) is
 * {@link HandshakeOutcome.AuthenticationFailed}, as is an RFC 1929 failure status. The request carries the
 * destination as IPv4, IPv6 or DOMAIN (names are never resolved here). A reply other than SUCCEEDED is
 * {@link HandshakeOutcome.Refused} with its code, e.g. {@code CONNECTION_REFUSED(0x05)}; SUCCEEDED is
 * {@link HandshakeOutcome.Granted} with the bound address, which may be a DOMAIN.
 */
public final class Socks5ClientHandshake implements ClientHandshake {

    private enum Step { METHOD_SELECTION, PASSWORD_AUTH, GSSAPI, REPLY, PROTECTED_REPLY }

    private final Socks5Request request;
    private final Socks5PasswordAuthRequest credentials;
    private final GssapiContext gssapi;
    private final Socks5GssapiProtection protection;
    private Socks5GssapiInitiator initiator;
    /** With integrity or confidentiality agreed: the request and reply, inside the protection. */
    private ProtectedClientHandshake protectedPhase;
    private final Socks5Greeting greeting;
    private final OutboundBuffer outbound = new OutboundBuffer();
    private Step step = Step.METHOD_SELECTION;
    private HandshakeOutcome outcome;

    /** Without credentials: offers only NO_AUTHENTICATION. */
    public Socks5ClientHandshake(Destination destination) {
        this(destination, (Socks5PasswordAuthRequest) null);
    }

    /**
     * With RFC 1929 credentials (username and password 1..255 bytes each).
     *
     * @throws IllegalArgumentException when a credential is empty or longer than 255 bytes
     */
    public Socks5ClientHandshake(Destination destination, String username, String password) {
        this(destination, new Socks5PasswordAuthRequest(username, password));
    }

    /**
     * With GSS-API (RFC 1961): offers only GSSAPI, so a proxy cannot downgrade the hop to no authentication.
     * {@code context} is a fresh initiator context for this connection; the handshake hands every call into it out
     * as a {@link BlockingStep} ({@link #takeBlockingStep()}).
     */
    public Socks5ClientHandshake(Destination destination, GssapiContext context) {
        this(destination, context, Socks5GssapiProtection.NONE);
    }

    /**
     * With GSS-API (RFC 1961), asking for {@code protection} (none, integrity or confidentiality) and accepting at
     * least that. With integrity or confidentiality agreed, the request, the reply and everything after them travel
     * as protected messages (section 5): see {@link #protectedStream()}.
     */
    public Socks5ClientHandshake(Destination destination, GssapiContext context, Socks5GssapiProtection protection) {
        this.request = new Socks5Request(Socks5Command.CONNECT, Objects.requireNonNull(destination, "destination"));
        this.credentials = null;
        this.gssapi = Objects.requireNonNull(context, "context");
        this.protection = Objects.requireNonNull(protection, "protection");
        this.greeting = Socks5Greeting.of(Socks5AuthMethod.GSSAPI);
        outbound.append(Socks5Codec.encodeGreeting(greeting));
    }

    private Socks5ClientHandshake(Destination destination, Socks5PasswordAuthRequest credentials) {
        this(Socks5Command.CONNECT, destination, credentials);
    }

    /**
     * UDP ASSOCIATE: {@code source} is where our datagrams will come from; {@code username} null for no
     * authentication.
     *
     * @throws IllegalArgumentException when a credential is empty or longer than 255 bytes
     */
    public static Socks5ClientHandshake udpAssociate(Destination source, String username, String password) {
        return new Socks5ClientHandshake(Socks5Command.UDP_ASSOCIATE, source,
                username == null ? null : new Socks5PasswordAuthRequest(username, password));
    }

    private Socks5ClientHandshake(Socks5Command command, Destination destination,
                                  Socks5PasswordAuthRequest credentials) {
        this.request = new Socks5Request(command, Objects.requireNonNull(destination, "destination"));
        this.credentials = credentials;
        this.gssapi = null;
        this.protection = Socks5GssapiProtection.NONE;
        this.greeting = credentials == null
                ? Socks5Greeting.of(Socks5AuthMethod.NO_AUTHENTICATION)
                : Socks5Greeting.of(Socks5AuthMethod.NO_AUTHENTICATION, Socks5AuthMethod.USERNAME_PASSWORD);
        outbound.append(Socks5Codec.encodeGreeting(greeting));
    }

    @Override
    public void receive(ByteBuffer in) {
        boolean progressed = true;
        while (outcome == null && progressed) {
            progressed = switch (step) {
                case METHOD_SELECTION -> onMethodSelection(Socks5Codec.decodeMethodSelection(in));
                case PASSWORD_AUTH -> onPasswordAuth(Socks5Codec.decodePasswordAuthResponse(in));
                case GSSAPI -> initiator.receive(in) && afterGssapi();
                case REPLY -> onReply(Socks5Codec.decodeReply(in));
                case PROTECTED_REPLY -> onProtectedReply(in);
            };
        }
    }

    private boolean onMethodSelection(Decoded<Socks5MethodSelection> decoded) {
        if (!(decoded instanceof Decoded.Message<Socks5MethodSelection> message)) {
            return failed(decoded);
        }
        Socks5AuthMethod method = message.message().method();
        if (method == Socks5AuthMethod.NO_ACCEPTABLE_METHODS) {
            outcome = new HandshakeOutcome.AuthenticationFailed(
                    "SOCKS5 proxy accepts none of the offered methods " + greeting.describeMethods());
        } else if (!greeting.offers(method)) {
            outcome = new HandshakeOutcome.ProtocolError(
                    "SOCKS5 method selection: proxy chose " + method + ", which was not offered");
        } else if (method == Socks5AuthMethod.USERNAME_PASSWORD) {
            outbound.append(Socks5Codec.encodePasswordAuthRequest(credentials));
            step = Step.PASSWORD_AUTH;
        } else if (method == Socks5AuthMethod.GSSAPI) {
            step = Step.GSSAPI;
            initiator = new Socks5GssapiInitiator(gssapi, protection, outbound, this::afterGssapi);
        } else {
            sendRequest();
        }
        return true;
    }

    private boolean onPasswordAuth(Decoded<Socks5PasswordAuthResponse> decoded) {
        if (!(decoded instanceof Decoded.Message<Socks5PasswordAuthResponse> message)) {
            return failed(decoded);
        }
        if (message.message().succeeded()) {
            sendRequest();
        } else {
            outcome = new HandshakeOutcome.AuthenticationFailed(
                    "SOCKS5 proxy rejected username/password for user " + credentials.username());
        }
        return true;
    }

    /** After a GSS-API message or blocking step: fail, send the request, or keep waiting. Always true. */
    private boolean afterGssapi() {
        if (outcome != null) {
            return true;
        }
        if (initiator.failure() != null) {
            outcome = initiator.failure();
            gssapi.dispose();
        } else if (initiator.done() && initiator.agreed() == Socks5GssapiProtection.NONE) {
            gssapi.dispose(); // no per-message protection: the context has no further use
            sendRequest();
        } else if (initiator.done()) {
            sendProtectedRequest(initiator.agreed());
        }
        return true;
    }

    /** RFC 1961 section 5: the request and reply are the first protected messages. */
    private void sendProtectedRequest(Socks5GssapiProtection agreed) {
        Socks5GssapiStreamProtection wrapping;
        try {
            wrapping = new Socks5GssapiStreamProtection(gssapi, agreed);
        } catch (GssapiException e) {
            outcome = new HandshakeOutcome.AuthenticationFailed("GSS-API " + agreed + " with " + gssapi + ": "
                    + e.getMessage());
            gssapi.dispose();
            return;
        }
        Socks5ClientHandshake plain = new Socks5ClientHandshake(request);
        protectedPhase = new ProtectedClientHandshake(plain, wrapping, ByteBuffer.allocate(0));
        ByteBuffer wire = protectedPhase.outbound();
        outbound.append(wire);
        wire.position(wire.limit());
        step = Step.PROTECTED_REPLY;
        settleProtectedPhase();
    }

    private boolean onProtectedReply(ByteBuffer in) {
        protectedPhase.receive(in);
        settleProtectedPhase();
        return false; // the protected phase took every whole message it needed
    }

    private void settleProtectedPhase() {
        HandshakeOutcome result = protectedPhase.outcome();
        if (result == null) {
            return;
        }
        outcome = result;
        if (!(result instanceof HandshakeOutcome.Granted)) {
            gssapi.dispose();
        }
    }

    /** Only the request and its reply, for the protected phase. */
    private Socks5ClientHandshake(Socks5Request request) {
        this.request = request;
        this.credentials = null;
        this.gssapi = null;
        this.protection = Socks5GssapiProtection.NONE;
        this.greeting = null;
        sendRequest();
    }

    @Override
    public ProtectedStream protectedStream() {
        return protectedPhase == null || !(outcome instanceof HandshakeOutcome.Granted) ? null
                : protectedPhase.protectedStream();
    }

    @Override
    public BlockingStep<?> takeBlockingStep() {
        return initiator == null || outcome != null ? null : initiator.takeBlockingStep();
    }

    private boolean onReply(Decoded<Socks5Reply> decoded) {
        if (!(decoded instanceof Decoded.Message<Socks5Reply> message)) {
            return failed(decoded);
        }
        Socks5Reply reply = message.message();
        outcome = reply.code() == Socks5ReplyCode.SUCCEEDED
                ? new HandshakeOutcome.Granted(reply.bound())
                : new HandshakeOutcome.Refused(reply.code().status(), reply.code().toString());
        return true;
    }

    private void sendRequest() {
        outbound.append(Socks5Codec.encodeRequest(request));
        step = Step.REPLY;
    }

    /** NeedMore: no progress; Malformed: a protocol error. */
    private boolean failed(Decoded<?> decoded) {
        if (decoded instanceof Decoded.Malformed<?> malformed) {
            outcome = new HandshakeOutcome.ProtocolError(malformed.reason());
            return true;
        }
        return false;
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
        return "socks5 " + request.command().name() + " " + request.destination()
                + (credentials == null ? "" : " as " + credentials.username())
                + (gssapi == null ? "" : " with GSS-API " + gssapi
                        + (protection == Socks5GssapiProtection.NONE ? "" : " asking for " + protection));
    }
}
