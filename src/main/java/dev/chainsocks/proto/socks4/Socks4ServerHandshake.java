package dev.chainsocks.proto.socks4;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.OutboundBuffer;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerHandshake;
import dev.chainsocks.proto.ServerOutcome;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The server side of SOCKS4 and SOCKS4a: parse one request, answer with 8-byte replies.
 *
 * <p>SOCKS4 has no passwords; when the {@link Authenticator} requires authentication the USERID must name a known
 * user, otherwise the request is answered with {@link Socks4ReplyCode#REJECTED} and the outcome is
 * {@link ServerOutcome.Rejected}. Malformed requests get the same answer. CONNECT and BIND are the only commands.
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
        if (authenticator.required() && (userId.isEmpty() || !authenticator.knowsUser(userId))) {
            reject(userId.isEmpty()
                    ? "SOCKS4 request without a userid, authentication is required"
                    : "SOCKS4 userid \"" + userId + "\" is not a known user");
            return;
        }
        outcome = new ServerOutcome.Request(
                request.isSocks4a() ? ServerOutcome.ProxyProtocol.SOCKS4A : ServerOutcome.ProxyProtocol.SOCKS4,
                request.command() == Socks4Command.BIND ? ServerOutcome.Command.BIND : ServerOutcome.Command.CONNECT,
                request.destination(),
                userId.isEmpty() ? null : userId);
    }

    private void reject(String reason) {
        outbound.append(Socks4Codec.encodeReply(new Socks4Reply(Socks4ReplyCode.REJECTED, null)));
        outcome = new ServerOutcome.Rejected(reason);
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
