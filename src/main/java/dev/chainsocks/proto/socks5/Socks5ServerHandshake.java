package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.BlockingStep;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.GssapiException;
import dev.chainsocks.proto.OutboundBuffer;
import dev.chainsocks.proto.ProtectedInput;
import dev.chainsocks.proto.ProtectedStream;
import dev.chainsocks.proto.ProtectionException;
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

    private enum Step { GREETING, PASSWORD_AUTH, GSSAPI, REQUEST, PROTECTED_REQUEST }

    private final Authenticator authenticator;
    private final Supplier<GssapiContext> gssapi;
    private final Socks5GssapiProtection minimumProtection;
    private GssapiContext context;
    /** With integrity or confidentiality agreed: what the client sends, unprotected; its replies are protected. */
    private ProtectedInput protectedInput;
    private Socks5GssapiStreamProtection protection;
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
        this(authenticator, gssapi, Socks5GssapiProtection.NONE);
    }

    /**
     * As above, answering a GSS-API client's protection request with at least {@code minimumProtection} (RFC 1961
     * section 4.3). With integrity or confidentiality agreed, the request and reply are protected messages, only
     * CONNECT is served (BIND and UDP ASSOCIATE are answered COMMAND_NOT_SUPPORTED), and the relay must protect the
     * stream: see {@link #protectedStream()}.
     */
    public Socks5ServerHandshake(Authenticator authenticator, Supplier<GssapiContext> gssapi,
            Socks5GssapiProtection minimumProtection) {
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.gssapi = gssapi;
        this.minimumProtection = Objects.requireNonNull(minimumProtection, "minimumProtection");
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
                case PROTECTED_REQUEST -> onProtectedRequest(in);
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
            acceptor = new Socks5GssapiAcceptor(context, minimumProtection, outbound, this::afterGssapi);
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
        } else if (acceptor.done() && acceptor.agreed() == Socks5GssapiProtection.NONE) {
            context.dispose(); // no per-message protection: the context has no further use
            user = acceptor.principal();
            step = Step.REQUEST;
        } else if (acceptor.done()) {
            user = acceptor.principal();
            try {
                protection = new Socks5GssapiStreamProtection(context, acceptor.agreed());
            } catch (GssapiException e) {
                context.dispose();
                outcome = new ServerOutcome.Rejected("GSS-API " + acceptor.agreed() + ": " + e.getMessage());
                return true;
            }
            protectedInput = new ProtectedInput(protection, ByteBuffer.allocate(0));
            step = Step.PROTECTED_REQUEST;
        }
        return true;
    }

    /** RFC 1961 section 5: the request arrives in protected messages, however many it takes. */
    private boolean onProtectedRequest(ByteBuffer in) {
        while (true) {
            Decoded<Socks5Request> decoded = Socks5Codec.decodeRequest(protectedInput.plaintext());
            if (!(decoded instanceof Decoded.NeedMore<Socks5Request>)) {
                onRequest(decoded);
                if (outcome instanceof ServerOutcome.Request parsed
                        && parsed.command() != ServerOutcome.Command.CONNECT) {
                    send(Socks5Codec.encodeReply(new Socks5Reply(Socks5ReplyCode.COMMAND_NOT_SUPPORTED, null)));
                    outcome = new ServerOutcome.Rejected(parsed.command() + " with GSS-API " + protection.level()
                            + ": only CONNECT is relayed with per-message protection");
                }
                if (outcome instanceof ServerOutcome.Rejected) {
                    protection.dispose();
                }
                return true;
            }
            if (!protectedInput.readMessage(in)) {
                if (protectedInput.failure() != null) {
                    protection.dispose();
                    outcome = new ServerOutcome.Rejected(protectedInput.failure());
                    return true;
                }
                return false;
            }
        }
    }

    @Override
    public ProtectedStream protectedStream() {
        return protectedInput != null && outcome instanceof ServerOutcome.Request ? protectedInput.leftover() : null;
    }

    @Override
    public BlockingStep<?> takeBlockingStep() {
        return acceptor == null || outcome != null ? null : acceptor.takeBlockingStep();
    }

    private boolean onRequest(Decoded<Socks5Request> decoded) {
        if (decoded instanceof Decoded.Malformed<Socks5Request> malformed) {
            send(Socks5Codec.encodeReply(new Socks5Reply(Socks5ReplyCode.fromStatus(malformed.fault()), null)));
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
        send(Socks5Codec.encodeReply(new Socks5Reply(Socks5ReplyCode.fromStatus(status), bound)));
    }

    /** Queues a reply: as it is, or as protected messages once integrity or confidentiality was agreed. */
    private void send(ByteBuffer reply) {
        if (protection == null) {
            outbound.append(reply);
            return;
        }
        try {
            while (reply.hasRemaining()) {
                outbound.append(protection.protect(reply));
            }
        } catch (ProtectionException e) {
            // Nothing can be said to the client any more; the outcome tells the server why it closes.
            outcome = new ServerOutcome.Rejected(protection.name() + ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "socks5 server handshake" + (outcome == null ? " at " + step : ", " + outcome);
    }
}
