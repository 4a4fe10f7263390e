package dev.chainsocks.proto.socks4;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.OutboundBuffer;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerHandshake;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.ident.IdentVerdict;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The server side of SOCKS4 and SOCKS4a: parse one request, answer with 8-byte replies.
 *
 * <p>SOCKS4 has no passwords, so the {@link Authenticator} decides ({@link Authenticator#admitSocks4}): a server with
 * users refuses SOCKS4 by default, or admits a USERID that names a known user when its operator chose that, or first
 * has the client host's identd confirm that user ({@link ServerOutcome.NeedsIdentConfirmation}, resolved by
 * {@link #resolveIdent}: 0x5c when identd could not be asked, 0x5d when it did not confirm). A
 * refused request is answered with {@link Socks4ReplyCode#REJECTED} and the outcome is {@link ServerOutcome.Rejected}.
 * Malformed requests get the same answer. CONNECT and BIND are the only commands.
 * {@link #reply} encodes {@code 0x5a} for SUCCEEDED and {@code 0x5b} for any failure; a non-IPv4 bound address is
 * reported as 0.0.0.0 with its port.
 */
public final class Socks4ServerHandshake implements ServerHandshake {

    private final Authenticator authenticator;
    private final OutboundBuffer outbound = new OutboundBuffer();
    private ServerOutcome outcome;

    public Socks4ServerHandshake(Authenticator authenticator) {
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    }

    @Override
    public void receive(ByteBuffer in) {
        if (outcome != null) {
            return;
        }
        Decoded<Socks4Request> decoded = Socks4Codec.decodeRequest(in);
        if (decoded instanceof Decoded.Malformed<Socks4Request> malformed) {
            reject(malformed.reason());
        } else if (decoded instanceof Decoded.Message<Socks4Request> message) {
            accept(message.message());
        }
    }

    private void accept(Socks4Request request) {
        String userId = request.userId();
        String version = request.isSocks4a() ? "SOCKS4a" : "SOCKS4";
        ServerOutcome.Request parsed = new ServerOutcome.Request(
                request.isSocks4a() ? ServerOutcome.ProxyProtocol.SOCKS4A : ServerOutcome.ProxyProtocol.SOCKS4,
                request.command() == Socks4Command.BIND ? ServerOutcome.Command.BIND : ServerOutcome.Command.CONNECT,
                request.destination(),
                userId.isEmpty() ? null : userId);
        outcome = switch (authenticator.admitSocks4(userId)) {
            case ADMITTED -> parsed;
            case CONFIRM_WITH_IDENTD -> new ServerOutcome.NeedsIdentConfirmation(parsed);
            case REFUSED_NO_PASSWORD -> rejected(version + " has no password; the server requires one"
                    + " (--socks4-userid-only to admit a known user id)");
            case REFUSED_NO_USERID -> rejected(version + " request without a userid, authentication is required");
            case REFUSED_UNKNOWN_USERID -> rejected(version + " userid \"" + userId + "\" is not a known user");
        };
    }

    /**
     * Decides a request that was waiting for identd: a confirmation makes the outcome the request; otherwise the
     * SOCKS4 answer (0x5c unreachable, 0x5d not confirmed) is queued and the outcome is {@link ServerOutcome.Rejected}.
     */
    public void resolveIdent(IdentVerdict verdict) {
        if (!(outcome instanceof ServerOutcome.NeedsIdentConfirmation pending)) {
            throw new IllegalStateException("no request waits for identd, outcome is " + outcome);
        }
        String who = (pending.request().protocol() == ServerOutcome.ProxyProtocol.SOCKS4A ? "SOCKS4a" : "SOCKS4")
                + " userid \"" + pending.request().user() + "\": ";
        if (verdict instanceof IdentVerdict.Confirmed confirmed) {
            outcome = pending.request().user().equals(confirmed.userId()) ? pending.request()
                    : rejected(Socks4ReplyCode.IDENTD_USER_MISMATCH, who + "identd confirmed another user");
        } else if (verdict instanceof IdentVerdict.Unreachable) {
            outcome = rejected(Socks4ReplyCode.IDENTD_UNREACHABLE, who + verdict);
        } else {
            outcome = rejected(Socks4ReplyCode.IDENTD_USER_MISMATCH, who + verdict);
        }
    }

    /**
     * Refuses a request that waits for identd without asking it, for a reason of the server's (a client it does
     * not admit at all): 0x5b, and the outcome is {@link ServerOutcome.Rejected} with {@code reason}.
     */
    public void refusePending(String reason) {
        if (!(outcome instanceof ServerOutcome.NeedsIdentConfirmation)) {
            throw new IllegalStateException("no request waits for identd, outcome is " + outcome);
        }
        outcome = rejected(reason);
    }

    private void reject(String reason) {
        outcome = rejected(reason);
    }

    /** Queues the 0x5b answer; the caller makes the returned outcome final. */
    private ServerOutcome.Rejected rejected(String reason) {
        outbound.append(Socks4Codec.encodeReply(new Socks4Reply(Socks4ReplyCode.REJECTED, null)));
        return new ServerOutcome.Rejected(reason);
    }

    /** Queues an identd answer (0x5c, 0x5d) and names it in the reason. */
    private ServerOutcome.Rejected rejected(Socks4ReplyCode code, String reason) {
        outbound.append(Socks4Codec.encodeReply(new Socks4Reply(code, null)));
        return new ServerOutcome.Rejected(reason + ", answered " + code);
    }

    @Override
    public ByteBuffer outbound() {
        return outbound.buffer();
    }

    @Override
    public ServerOutcome outcome() {
        return outcome;
    }

    @Override
    public void reply(ReplyStatus status, Destination bound) {
        if (!(outcome instanceof ServerOutcome.Request)) {
            throw new IllegalStateException("no request to reply to, outcome is " + outcome);
        }
        outbound.append(Socks4Codec.encodeReply(Socks4Reply.of(Socks4ReplyCode.fromStatus(status), bound)));
    }

    @Override
    public String toString() {
        return "socks4 server handshake" + (outcome == null ? "" : ", " + outcome);
    }
}
