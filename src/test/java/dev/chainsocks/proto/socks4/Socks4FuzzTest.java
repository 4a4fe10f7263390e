package dev.chainsocks.proto.socks4;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.chainsocks.fuzz.FuzzInput;
import dev.chainsocks.fuzz.Reads;
import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.TestAuthenticator;
import dev.chainsocks.proto.WireProperties;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz tests of the SOCKS4/4a codec and both handshakes against {@link WireProperties}. Seeds are under
 * {@code src/test/resources/dev/chainsocks/proto/socks4/Socks4FuzzTestInputs/}; {@code docs/testing.md} has the
 * input layout and how to fuzz one target.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class Socks4FuzzTest {

    /** Header, userid and its NUL, 4a host name and its NUL: the longest request a server waits for. */
    static final int MAX_REQUEST_BYTES = 8 + 2 * (Socks4Request.MAX_USER_ID_BYTES + 1);

    static final Destination.Ip SERVER_BOUND = new Destination.Ip(InetAddress.getLoopbackAddress(), 40000);

    /** Input: request bytes, then the reads trailer (one 00 byte: a single read). */
    @FuzzTest
    public void request(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), MAX_REQUEST_BYTES, Socks4Codec::decodeRequest,
                Socks4Codec::encodeRequest);
    }

    /** Input: reply bytes, then the reads trailer. */
    @FuzzTest
    public void reply(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), Socks4Codec.REPLY_LENGTH, Socks4Codec::decodeReply,
                Socks4Codec::encodeReply);
    }

    /**
     * Input: a client's bytes, the reads trailer, then one byte choosing the server's users (even: none required;
     * odd: fred/secret and Fred). An accepted request is answered twice (as for BIND), and our own client asking
     * for the same destination must be read back as the same request.
     */
    @FuzzTest
    public void serverHandshake(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        Authenticator users = in.flag() ? TestAuthenticator.USERS : Authenticator.NONE;
        Reads reads = in.reads();
        WireProperties.ServerRun run = WireProperties.server(reads, MAX_REQUEST_BYTES,
                () -> new Socks4ServerHandshake(users));
        requireClientCanRead(run, reads);
        if (!(run.outcome() instanceof ServerOutcome.Request request)) {
            return;
        }
        boolean named = request.destination() instanceof Destination.Name;
        if (named != (request.protocol() == ServerOutcome.ProxyProtocol.SOCKS4A)) {
            throw WireProperties.broken("a SOCKS4 request for " + request.destination() + " read as "
                    + request.protocol(), reads);
        }
        for (int i = 0; i < 2; i++) {
            run.handshake().reply(ReplyStatus.SUCCEEDED, SERVER_BOUND);
            if (run.handshake().outbound().remaining() != Socks4Codec.REPLY_LENGTH) {
                throw WireProperties.broken("a reply is not 8 bytes", reads);
            }
            run.handshake().outbound().position(run.handshake().outbound().limit());
        }
        String user = request.user() == null ? "" : request.user();
        Socks4ClientHandshake client = named
                ? Socks4ClientHandshake.socks4a(request.destination(), user)
                : new Socks4ClientHandshake(request.destination(), user);
        ServerOutcome again = WireProperties.converse(client, new Socks4ServerHandshake(users), SERVER_BOUND);
        ServerOutcome expected = new ServerOutcome.Request(request.protocol(), ServerOutcome.Command.CONNECT,
                request.destination(), request.user());
        if (!expected.equals(again)) {
            throw WireProperties.broken("our client asking for " + request + " was read as " + again, reads);
        }
    }

    /** A refusal is one REJECTED reply, which our client reads; nothing is sent before a request is replied to. */
    private static void requireClientCanRead(WireProperties.ServerRun run, Reads reads) {
        ByteBuffer answer = ByteBuffer.wrap(run.answer());
        boolean readable = run.outcome() instanceof ServerOutcome.Rejected
                ? Socks4Codec.decodeReply(answer) instanceof Decoded.Message<Socks4Reply> reply
                        && reply.message().code() == Socks4ReplyCode.REJECTED && !answer.hasRemaining()
                : !answer.hasRemaining();
        if (!readable) {
            throw WireProperties.broken("with outcome " + run.outcome() + " the server sent "
                    + Hex.of(run.answer()), reads);
        }
    }

    /**
     * Input: the proxy's bytes, the reads trailer, then one byte choosing the request: 0 SOCKS4 to an IPv4 address
     * without userid, 1 SOCKS4 with userid Fred, 2 SOCKS4a to example.com.
     */
    @FuzzTest
    public void clientHandshake(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        int variant = in.choose(3);
        Destination.Ip ipv4 = new Destination.Ip(InetAddress.getLoopbackAddress(), 80);
        WireProperties.client(in.reads(), Socks4Codec.REPLY_LENGTH, () -> switch (variant) {
            case 0 -> new Socks4ClientHandshake(ipv4, null);
            case 1 -> new Socks4ClientHandshake(ipv4, "Fred");
            default -> Socks4ClientHandshake.socks4a(Destination.name("example.com", 443), "");
        });
    }
}
