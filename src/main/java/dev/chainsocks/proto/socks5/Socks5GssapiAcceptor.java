package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.BlockingStep;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.OutboundBuffer;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * The server's part of the SOCKS5 GSS-API method (RFC 1961), between selecting method 0x01 and the request:
 * context establishment, then the protection level. RFC 1961 section 4.3 lets the server choose: it answers with the
 * level the client asked for, raised to the server's minimum; a client asking for per-message selection (level 3)
 * gets confidentiality. The client decides whether the answer is enough. A failed context step, a protection
 * message that does not verify, an unknown level or a client abort ends the method with an abort message.
 *
 * <p>Every call into the {@link GssapiContext} is a {@link BlockingStep} for the driver to run off the loop.
 */
final class Socks5GssapiAcceptor {

    private enum Step { AWAIT_TOKEN, CONTEXT_CALL, AWAIT_PROTECTION, PROTECTION_CALL, DONE }

    /** What the protection step found: who the client is, the level chosen and the wrapped answer. */
    private record Protection(String principal, Socks5GssapiProtection level, byte[] answer) {
    }

    private final GssapiContext context;
    private final OutboundBuffer outbound;
    private final Runnable afterStep;
    private final Socks5GssapiProtection minimum;
    private Socks5GssapiProtection agreed;
    private Step step = Step.AWAIT_TOKEN;
    private BlockingStep<?> pending;
    private String failure;
    private String principal;

    Socks5GssapiAcceptor(GssapiContext context, Socks5GssapiProtection minimum, OutboundBuffer outbound,
            Runnable afterStep) {
        if (minimum == Socks5GssapiProtection.PER_MESSAGE) {
            throw new IllegalArgumentException("per-message protection (RFC 1961 level 3) is not supported");
        }
        this.context = context;
        this.minimum = minimum;
        this.outbound = outbound;
        this.afterStep = afterStep;
    }

    /** Consumes at most one message; true when it made progress (or failed). */
    boolean receive(ByteBuffer in) {
        if (step != Step.AWAIT_TOKEN && step != Step.AWAIT_PROTECTION) {
            return false;
        }
        Decoded<Socks5GssapiMessage> decoded = Socks5GssapiCodec.decode(in);
        if (decoded instanceof Decoded.Malformed<Socks5GssapiMessage> malformed) {
            abort(malformed.reason());
            return true;
        }
        if (!(decoded instanceof Decoded.Message<Socks5GssapiMessage> message)) {
            return false;
        }
        Socks5GssapiMessage received = message.message();
        Socks5GssapiMessageType expected = step == Step.AWAIT_TOKEN
                ? Socks5GssapiMessageType.AUTHENTICATION : Socks5GssapiMessageType.PROTECTION;
        if (received.type() == Socks5GssapiMessageType.ABORT) {
            failure = "client aborted GSS-API authentication (RFC 1961 abort)";
        } else if (received.type() != expected) {
            abort("SOCKS5 GSS-API: expected " + expected + ", client sent " + received.type());
        } else if (step == Step.AWAIT_TOKEN) {
            contextStep(received.token());
        } else {
            protectionStep(received.token());
        }
        return true;
    }

    private void contextStep(byte[] token) {
        step = Step.CONTEXT_CALL;
        pending = blocking("GSS-API accept step", () -> context.step(token), answer -> {
            if (answer.length > 0) {
                send(Socks5GssapiMessageType.AUTHENTICATION, answer);
            }
            step = context.established() ? Step.AWAIT_PROTECTION : Step.AWAIT_TOKEN;
        }, e -> abort("GSS-API authentication failed: " + e.getMessage()));
    }

    private void protectionStep(byte[] token) {
        step = Step.PROTECTION_CALL;
        pending = blocking("GSS-API protection level", () -> {
            byte[] level = context.unwrap(token);
            if (level.length != 1) {
                throw new IllegalArgumentException("protection level message holds " + level.length
                        + " bytes, expected 1");
            }
            Socks5GssapiProtection chosen = choose(level[0]);
            return new Protection(context.peerName(), chosen, context.wrap(new byte[] {chosen.byteValue()}));
        }, protection -> {
            send(Socks5GssapiMessageType.PROTECTION, protection.answer());
            principal = protection.principal();
            agreed = protection.level();
            step = Step.DONE;
        }, e -> abort("GSS-API protection level negotiation failed: " + e.getMessage()));
    }

    private Socks5GssapiProtection choose(int requested) {
        Socks5GssapiProtection asked = Socks5GssapiProtection.fromByte(requested).orElseThrow(() ->
                new IllegalArgumentException("the client asked for unknown protection level "
                        + Socks5GssapiProtection.describe(requested)));
        if (asked == Socks5GssapiProtection.PER_MESSAGE) {
            return Socks5GssapiProtection.CONFIDENTIALITY;
        }
        return asked.byteValue() >= minimum.byteValue() ? asked : minimum;
    }

    private <T> BlockingStep<T> blocking(String description, Callable<T> work, Consumer<T> then,
            Consumer<Exception> otherwise) {
        return new BlockingStep<>(description, work, result -> {
            then.accept(result);
            afterStep.run();
        }, e -> {
            otherwise.accept(e);
            afterStep.run();
        });
    }

    private void abort(String reason) {
        outbound.append(Socks5GssapiCodec.encode(Socks5GssapiMessage.abort()));
        failure = reason;
    }

    private void send(Socks5GssapiMessageType type, byte[] token) {
        outbound.append(Socks5GssapiCodec.encode(new Socks5GssapiMessage(type, token)));
    }

    BlockingStep<?> takeBlockingStep() {
        BlockingStep<?> taken = pending;
        pending = null;
        return taken;
    }

    boolean done() {
        return step == Step.DONE;
    }

    /** The level agreed with the client, once {@link #done()}. */
    Socks5GssapiProtection agreed() {
        return agreed;
    }

    /** The authenticated client principal, once {@link #done()}. */
    String principal() {
        return principal;
    }

    /** Null unless the method failed; then an abort message is queued (unless the client aborted). */
    String failure() {
        return failure;
    }
}
