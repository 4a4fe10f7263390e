package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.BlockingStep;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.OutboundBuffer;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerHandshake;
import dev.chainsocks.proto.ServerOutcome;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The server side of SOCKS5 (RFC 1928) with RFC 1929 username/password and, when given a way to make acceptor
 * contexts, GSS-API (RFC 1961, see {@link Socks5GssapiAcceptor}).
 *
 * <p>Method choice (RFC 1928 section 3): GSSAPI when configured and offered; then USERNAME_PASSWORD when the {@link Authenticator} requires it and the
 * client offers it; NO_AUTHENTICATION when neither users nor GSS-API are configured and it is offered; otherwise NO_ACCEPTABLE_METHODS (0xff) and
 * {@link ServerOutcome.Rejected}. A failed RFC 1929 check answers STATUS 0x01 and rejects. A request with an
 * unknown command is answered COMMAND_NOT_SUPPORTED(0x07), an unknown address type
 * ADDRESS_TYPE_NOT_SUPPORTED(0x08), any other malformed request GENERAL_FAILURE(0x01); each rejects. A non-zero RSV
 * byte is tolerated. Messages may arrive one byte at a time or pipelined in one read; consumption stops after the
 * request, so data the client sent after it stays in the buffer.
 */
public final class Socks5ServerHandshake implements ServerHandshake {

    private enum Step { GREETING, PASSWORD_AUTH, GSSAPI, REQUEST }

    private final Authenticator authenticator;
    private final Supplier<GssapiContext> gssapi;
    private GssapiContext context;
    private Socks5GssapiAcceptor acceptor;
    private final OutboundBuffer outbound = new OutboundBuffer();
    private Step step = Step.GREETING;
    private String user;
    private ServerOutcome outcome;

    public Socks5ServerHandshake(Authenticator authenticator) {
        this(authenticator, null);
    }

    /**
     * With GSS-API (RFC 1961) offered: {@code gssapi} makes a fresh acceptor context (cheaply: its calls do the
     * work), or is null when the server has no keytab. With GSS-API offered, no client goes unauthenticated.
     */
    public Socks5ServerHandshake(Authenticator authenticator, Supplier<GssapiContext> gssapi) {
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.gssapi = gssapi;
    }

    @Override
    public void receive(ByteBuffer in) {
        boolean progressed = true;
        while (outcome == null && progressed) {
            progressed = switch (step) {
                case GREETING -> onGreeting(Socks5Codec.decodeGreeting(in));
                case PASSWORD_AUTH -> onPasswordAuth(Socks5Codec.decodePasswordAuthRequest(in));
                case GSSAPI -> acceptor.receive(in) && afterGssapi();
                case REQUEST -> onRequest(Socks5Codec.decodeRequest(in));
            };
        }
    }

    private boolean onGreeting(Decoded<Socks5Greeting> decoded) {
        if (decoded instanceof Decoded.Malformed<Socks5Greeting> malformed) {
            outcome = new ServerOutcome.Rejected(malformed.reason()); // not SOCKS5: nothing to answer in it
            return true;
        }
        if (!(decoded instanceof Decoded.Message<Socks5Greeting> message)) {
            return false;
        }
        Socks5Greeting greeting = message.message();
        if (gssapi != null && greeting.offers(Socks5AuthMethod.GSSAPI)) {
            select(Socks5AuthMethod.GSSAPI);
            context = gssapi.get();
            acceptor = new Socks5GssapiAcceptor(context, outbound, this::afterGssapi);
            step = Step.GSSAPI;
        } else if (authenticator.required() && greeting.offers(Socks5AuthMethod.USERNAME_PASSWORD)) {
            select(Socks5AuthMethod.USERNAME_PASSWORD);
            step = Step.PASSWORD_AUTH;
        } else if (!authenticator.required() && gssapi == null
                && greeting.offers(Socks5AuthMethod.NO_AUTHENTICATION)) {
            select(Socks5AuthMethod.NO_AUTHENTICATION);
            step = Step.REQUEST;
        } else {
            select(Socks5AuthMethod.NO_ACCEPTABLE_METHODS);
            outcome = new ServerOutcome.Rejected(
                    "no acceptable authentication method; client offered " + greeting.describeMethods());
        }
        return true;
    }

    private boolean onPasswordAuth(Decoded<Socks5PasswordAuthRequest> decoded) {
        if (decoded instanceof Decoded.Malformed<Socks5PasswordAuthRequest> malformed) {
            answerPasswordAuth(Socks5PasswordAuthStatus.FAILURE);
            outcome = new ServerOutcome.Rejected(malformed.reason());
            return true;
        }
        if (!(decoded instanceof Decoded.Message<Socks5PasswordAuthRequest> message)) {
            return false;
        }
        Socks5PasswordAuthRequest credentials = message.message();
        if (authenticator.verify(credentials.username(), credentials.password())) {
            answerPasswordAuth(Socks5PasswordAuthStatus.SUCCESS);
            user = credentials.username();
            step = Step.REQUEST;
        } else {
            answerPasswordAuth(Socks5PasswordAuthStatus.FAILURE);
            outcome = new ServerOutcome.Rejected(
                    "RFC 1929 authentication failed for user \"" + credentials.username() + "\"");
        }
        return true;
    }

    /** After a GSS-API message or blocking step: reject, move on to the request, or keep waiting. Always true. */
    private boolean afterGssapi() {
        if (outcome != null || step != Step.GSSAPI) {
            return true;
        }
        if (acceptor.failure() != null) {
            context.dispose();
            outcome = new ServerOutcome.Rejected(acceptor.failure());
        } else if (acceptor.done()) {
            context.dispose(); // no per-message protection: the context has no further use
            user = acceptor.principal();
            step = Step.REQUEST;
        }
        return true;
    }

    @Override
    public BlockingStep<?> takeBlockingStep() {
        return acceptor == null || outcome != null ? null : acceptor.takeBlockingStep();
    }

    private boolean onRequest(Decoded<Socks5Request> decoded) {
        if (decoded instanceof Decoded.Malformed<Socks5Request> malformed) {
            outbound.append(Socks5Codec.encodeReply(
                    new Socks5Reply(Socks5ReplyCode.fromStatus(malformed.fault()), null)));
            outcome = new ServerOutcome.Rejected(malformed.reason());
            return true;
        }
        if (!(decoded instanceof Decoded.Message<Socks5Request> message)) {
            return false;
        }
        Socks5Request request = message.message();
        ServerOutcome.Command command = switch (request.command()) {
            case CONNECT -> ServerOutcome.Command.CONNECT;
            case BIND -> ServerOutcome.Command.BIND;
            case UDP_ASSOCIATE -> ServerOutcome.Command.UDP_ASSOCIATE;
        };
        outcome = new ServerOutcome.Request(ServerOutcome.ProxyProtocol.SOCKS5, command, request.destination(), user);
        return true;
    }

    private void select(Socks5AuthMethod method) {
        outbound.append(Socks5Codec.encodeMethodSelection(new Socks5MethodSelection(method)));
    }

    private void answerPasswordAuth(Socks5PasswordAuthStatus status) {
        outbound.append(Socks5Codec.encodePasswordAuthResponse(new Socks5PasswordAuthResponse(status)));
    }

    @Override
    public ByteBuffer outbound() {
        return outbound.buffer();
    }

    @Override
    public ServerOutcome outcome() {
        return outcome;
    }

    /** Encodes a reply with {@code bound} as IPv4, IPv6 or DOMAIN; null means 0.0.0.0:0. */
    @Override
    public void reply(ReplyStatus status, Destination bound) {
        if (!(outcome instanceof ServerOutcome.Request)) {
            throw new IllegalStateException("no request to reply to, outcome is " + outcome);
        }
        outbound.append(Socks5Codec.encodeReply(new Socks5Reply(Socks5ReplyCode.fromStatus(status), bound)));
    }

    @Override
    public String toString() {
        return "socks5 server handshake" + (outcome == null ? " at " + step : ", " + outcome);
    }
}
