package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.BlockingStep;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.OutboundBuffer;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * The client's part of the SOCKS5 GSS-API method (RFC 1961), between the server selecting method 0x01 and the
 * request: context establishment, then the protection level (RFC 1961 section 4.3). The client asks for the level
 * the hop requires; the server chooses. An answer of at least that level (none, integrity, confidentiality in that
 * order) is agreed, so a server that insists on more gets it; less, the per-message level 3 (which chainsocks does
 * not do) or an unknown level ends the handshake with {@link HandshakeOutcome.AuthenticationFailed} saying so.
 *
 * <p>Every call into the {@link GssapiContext} is a {@link BlockingStep} for the driver to run off the loop.
 */
final class Socks5GssapiInitiator {

    private enum Step { CONTEXT_CALL, AWAIT_TOKEN, AWAIT_PROTECTION, PROTECTION_CALL, DONE }

    private final GssapiContext context;
    private final OutboundBuffer outbound;
    private final Runnable afterStep;
    private final Socks5GssapiProtection required;
    private Socks5GssapiProtection agreed;
    private Step step = Step.CONTEXT_CALL;
    private BlockingStep<?> pending;
    private HandshakeOutcome failure;

    /** {@code afterStep} runs on the loop after each blocking step completed, to let the handshake move on. */
    Socks5GssapiInitiator(GssapiContext context, Socks5GssapiProtection required, OutboundBuffer outbound,
            Runnable afterStep) {
        if (required == Socks5GssapiProtection.PER_MESSAGE) {
            throw new IllegalArgumentException("per-message protection (RFC 1961 level 3) is not supported");
        }
        this.context = context;
        this.required = required;
        this.outbound = outbound;
        this.afterStep = afterStep;
        contextStep(new byte[0]);
    }

    /** Consumes at most one message; true when it made progress (or failed). */
    boolean receive(ByteBuffer in) {
        if (step != Step.AWAIT_TOKEN && step != Step.AWAIT_PROTECTION) {
            return false;
        }
        Decoded<Socks5GssapiMessage> decoded = Socks5GssapiCodec.decode(in);
        if (decoded instanceof Decoded.Malformed<Socks5GssapiMessage> malformed) {
            failure = new HandshakeOutcome.ProtocolError(malformed.reason());
            return true;
        }
        if (!(decoded instanceof Decoded.Message<Socks5GssapiMessage> message)) {
            return false;
        }
        Socks5GssapiMessage received = message.message();
        Socks5GssapiMessageType expected = step == Step.AWAIT_TOKEN
                ? Socks5GssapiMessageType.AUTHENTICATION : Socks5GssapiMessageType.PROTECTION;
        if (received.type() == Socks5GssapiMessageType.ABORT) {
            failure = new HandshakeOutcome.AuthenticationFailed(step == Step.AWAIT_TOKEN
                    ? "SOCKS5 proxy aborted GSS-API authentication (RFC 1961 abort): it did not accept our "
                            + context
                    : "SOCKS5 proxy aborted GSS-API at the protection level: it refuses " + required
                            + ", which this hop asked for (protection=" + optionName(required) + ")");
        } else if (received.type() != expected) {
            failure = new HandshakeOutcome.ProtocolError("SOCKS5 GSS-API: expected " + expected + ", proxy sent "
                    + received.type());
        } else if (step == Step.AWAIT_TOKEN) {
            contextStep(received.token());
        } else {
            checkProtection(received.token());
        }
        return true;
    }

    private void contextStep(byte[] token) {
        step = Step.CONTEXT_CALL;
        pending = blocking("GSS-API context step for " + context, () -> context.step(token),
                this::afterContextStep, e -> failed("GSS-API context establishment with " + context + " failed: "
                        + e.getMessage()));
    }

    private void afterContextStep(byte[] token) {
        if (token.length > 0) {
            send(Socks5GssapiMessageType.AUTHENTICATION, token);
        }
        if (!context.established()) {
            step = Step.AWAIT_TOKEN;
            return;
        }
        step = Step.PROTECTION_CALL;
        pending = blocking("GSS-API wrap of the protection level", () -> context.wrap(
                new byte[] {required.byteValue()}), wrapped -> {
                    send(Socks5GssapiMessageType.PROTECTION, wrapped);
                    step = Step.AWAIT_PROTECTION;
                }, e -> failed("GSS-API cannot protect the protection level message: " + e.getMessage()));
    }

    private void checkProtection(byte[] token) {
        step = Step.PROTECTION_CALL;
        pending = blocking("GSS-API unwrap of the proxy's protection level", () -> context.unwrap(token),
                level -> {
                    if (level.length != 1) {
                        failure = new HandshakeOutcome.ProtocolError("SOCKS5 GSS-API protection level message holds "
                                + level.length + " bytes, expected 1");
                    } else {
                        agree(level[0]);
                    }
                }, e -> failed("GSS-API check of the proxy's protection level message failed: " + e.getMessage()));
    }

    private void agree(int chosen) {
        Socks5GssapiProtection level = Socks5GssapiProtection.fromByte(chosen).orElse(null);
        if (level == null || level == Socks5GssapiProtection.PER_MESSAGE) {
            failure = new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy chose GSS-API protection "
                    + Socks5GssapiProtection.describe(chosen) + "; chainsocks relays with none, integrity or"
                    + " confidentiality");
        } else if (level.byteValue() < required.byteValue()) {
            failure = new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy chose GSS-API protection " + level
                    + ", less than the " + required + " this hop requires (protection=" + optionName(required)
                    + ")");
        } else {
            agreed = level;
            step = Step.DONE;
        }
    }

    static String optionName(Socks5GssapiProtection level) {
        return level.name().toLowerCase(java.util.Locale.ROOT);
    }

    private <T> BlockingStep<T> blocking(String description, Callable<T> work,
            Consumer<T> then, Consumer<Exception> otherwise) {
        return new BlockingStep<>(description, work, result -> {
            then.accept(result);
            afterStep.run();
        }, e -> {
            otherwise.accept(e);
            afterStep.run();
        });
    }

    private void failed(String reason) {
        failure = new HandshakeOutcome.AuthenticationFailed(reason);
    }

    private void send(Socks5GssapiMessageType type, byte[] token) {
        outbound.append(Socks5GssapiCodec.encode(new Socks5GssapiMessage(type, token)));
    }

    BlockingStep<?> takeBlockingStep() {
        BlockingStep<?> taken = pending;
        pending = null;
        return taken;
    }

    /** The protection level is agreed: the SOCKS5 request may follow. */
    boolean done() {
        return step == Step.DONE;
    }

    /** The level both sides agreed on, once {@link #done()}. */
    Socks5GssapiProtection agreed() {
        return agreed;
    }

    /** Null unless the method failed. */
    HandshakeOutcome failure() {
        return failure;
    }
}
