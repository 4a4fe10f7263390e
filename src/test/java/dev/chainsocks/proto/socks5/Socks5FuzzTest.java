package dev.chainsocks.proto.socks5;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.chainsocks.fuzz.FuzzInput;
import dev.chainsocks.fuzz.Reads;
import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.GssapiException;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ScriptedGssapi;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.TestAuthenticator;
import dev.chainsocks.proto.WireProperties;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz tests of every SOCKS5 message decoder and both handshakes against {@link WireProperties}. Seeds are under
 * {@code src/test/resources/dev/chainsocks/proto/socks5/Socks5FuzzTestInputs/}; {@code docs/testing.md} has the
 * input layout and how to fuzz one target.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class Socks5FuzzTest {

    static final int MAX_GREETING_BYTES = 2 + 255;
    static final int MAX_PASSWORD_AUTH_BYTES = 3 + 255 + 255;
    /** VER CMD RSV, ATYP DOMAIN with 255 bytes, port. */
    static final int MAX_REQUEST_BYTES = 3 + 1 + 1 + 255 + 2;

    static final Destination SERVER_BOUND = new Destination.Ip(InetAddress.getLoopbackAddress(), 40000);

    /** Input: greeting bytes, then the reads trailer (one 00 byte: a single read). */
    @FuzzTest
    public void greeting(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), MAX_GREETING_BYTES, Socks5Codec::decodeGreeting,
                Socks5Codec::encodeGreeting);
    }

    /** Input: method selection bytes, then the reads trailer. */
    @FuzzTest
    public void methodSelection(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), 2, Socks5Codec::decodeMethodSelection,
                Socks5Codec::encodeMethodSelection);
    }

    /** Input: RFC 1929 request bytes, then the reads trailer. */
    @FuzzTest
    public void passwordAuthRequest(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), MAX_PASSWORD_AUTH_BYTES,
                Socks5Codec::decodePasswordAuthRequest, Socks5Codec::encodePasswordAuthRequest);
    }

    /** Input: RFC 1929 response bytes, then the reads trailer. */
    @FuzzTest
    public void passwordAuthResponse(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), 2, Socks5Codec::decodePasswordAuthResponse,
                Socks5Codec::encodePasswordAuthResponse);
    }

    /** Input: request bytes, then the reads trailer. */
    @FuzzTest
    public void request(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), MAX_REQUEST_BYTES, Socks5Codec::decodeRequest,
                Socks5Codec::encodeRequest);
    }

    /** Input: reply bytes, then the reads trailer. */
    @FuzzTest
    public void reply(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), MAX_REQUEST_BYTES, Socks5Codec::decodeReply,
                Socks5Codec::encodeReply);
    }

    /** Input: one GSS-API sub-negotiation message (RFC 1961) bytes, then the reads trailer. */
    @FuzzTest
    public void gssapiMessage(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), 4 + Socks5GssapiMessage.MAX_TOKEN_LENGTH,
                Socks5GssapiCodec::decode, Socks5GssapiCodec::encode);
    }

    /**
     * Input: one RFC 1961 encapsulated message (MTYP 3) of the relayed stream, the reads trailer, then one byte
     * choosing the agreed level (even: integrity; odd: confidentiality). Unprotected with the scripted mechanism; a
     * message that decodes is protected again and must decode to the same plaintext.
     */
    @FuzzTest
    public void gssapiEncapsulation(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        Socks5GssapiProtection level = in.flag() ? Socks5GssapiProtection.CONFIDENTIALITY
                : Socks5GssapiProtection.INTEGRITY;
        ScriptedGssapi context = ScriptedGssapi.establishedPair(0x07)[1];
        Socks5GssapiStreamProtection protection;
        try {
            protection = new Socks5GssapiStreamProtection(context, level);
        } catch (GssapiException e) {
            throw new AssertionError(e);
        }
        WireProperties.decoder(in.reads(), protection.maxMessageSize(), protection::unprotect, plaintext -> {
            byte[] message = Hex.drain(plaintext.duplicate());
            try {
                return Socks5GssapiCodec.encode(new Socks5GssapiMessage(Socks5GssapiMessageType.ENCAPSULATION,
                        context.wrapMessage(message, level == Socks5GssapiProtection.CONFIDENTIALITY)));
            } catch (GssapiException e) {
                throw new AssertionError(e);
            }
        });
    }

    /** Input: one whole datagram, no trailer (a datagram is never cut). */
    @FuzzTest
    public void udpDatagram(byte[] input) {
        WireProperties.datagram(input, Socks5UdpDatagram::decode, Socks5UdpDatagram::encode);
    }

    /**
     * Input: a client's bytes, the reads trailer, then one byte choosing the server's users (even: none required;
     * odd: fred/secret and Fred/x). A CONNECT that was accepted is asked for again by our own client, which must
     * be read back as the same request.
     */
    @FuzzTest
    public void serverHandshake(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        TestAuthenticator users = TestAuthenticator.USERS;
        Authenticator authenticator = in.flag() ? users : Authenticator.NONE;
        Reads reads = in.reads();
        WireProperties.ServerRun run = WireProperties.server(reads, MAX_PASSWORD_AUTH_BYTES,
                () -> new Socks5ServerHandshake(authenticator));
        requireClientCanRead(run, reads);
        if (!(run.outcome() instanceof ServerOutcome.Request request)) {
            return;
        }
        run.handshake().reply(ReplyStatus.SUCCEEDED, request.destination());
        run.handshake().reply(ReplyStatus.HOST_UNREACHABLE, null);
        if (request.command() != ServerOutcome.Command.CONNECT) {
            return;
        }
        Socks5ClientHandshake client = request.user() == null
                ? new Socks5ClientHandshake(request.destination())
                : new Socks5ClientHandshake(request.destination(), request.user(),
                        users.passwords().get(request.user()));
        ServerOutcome again = WireProperties.converse(client, new Socks5ServerHandshake(authenticator),
                SERVER_BOUND);
        if (!request.equals(again)) {
            throw WireProperties.broken("our client asking for " + request + " was read as " + again, reads);
        }
    }

    /**
     * What the server sent so far, read with the client side's decoders: a method selection, an RFC 1929 response
     * if that method was chosen, and a reply only when turning a request away. Anything that ends the handshake
     * (no acceptable method, failed authentication, a failure reply) must go with a rejection, and nothing else
     * may follow it; a greeting that is not SOCKS5 at all is turned away without an answer.
     */
    private static void requireClientCanRead(WireProperties.ServerRun run, Reads reads) {
        ByteBuffer answer = ByteBuffer.wrap(run.answer());
        boolean rejected = run.outcome() instanceof ServerOutcome.Rejected;
        boolean readable;
        if (!answer.hasRemaining()) {
            readable = run.outcome() == null || rejected;
        } else if (!(Socks5Codec.decodeMethodSelection(answer) instanceof Decoded.Message<Socks5MethodSelection> m)) {
            readable = false;
        } else if (m.message().method() == Socks5AuthMethod.NO_ACCEPTABLE_METHODS) {
            readable = rejected && !answer.hasRemaining();
        } else {
            boolean refusedAuth = false;
            if (m.message().method() == Socks5AuthMethod.USERNAME_PASSWORD && answer.hasRemaining()) {
                refusedAuth = !(Socks5Codec.decodePasswordAuthResponse(answer)
                        instanceof Decoded.Message<Socks5PasswordAuthResponse> auth && auth.message().succeeded());
            }
            if (refusedAuth) {
                readable = rejected && !answer.hasRemaining();
            } else if (answer.hasRemaining()) {
                readable = rejected && Socks5Codec.decodeReply(answer) instanceof Decoded.Message<Socks5Reply> reply
                        && reply.message().code() != Socks5ReplyCode.SUCCEEDED && !answer.hasRemaining();
            } else {
                readable = !rejected;
            }
        }
        if (!readable) {
            throw WireProperties.broken("with outcome " + run.outcome() + " the server sent "
                    + Hex.of(run.answer()), reads);
        }
    }

    /**
     * Input: the proxy's bytes, the reads trailer, then one byte choosing the request: its destination (modulo 3:
     * IPv4, IPv6, example.com) and whether it offers fred/secret (the value divided by 3 is odd).
     */
    @FuzzTest
    public void clientHandshake(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        int variant = in.choose(6);
        Destination destination = switch (variant % 3) {
            case 0 -> new Destination.Ip(address(198, 51, 100, 7), 443);
            case 1 -> new Destination.Ip(address(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 443);
            default -> Destination.name("example.com", 443);
        };
        boolean credentials = variant / 3 == 1;
        WireProperties.client(in.reads(), MAX_REQUEST_BYTES, () -> credentials
                ? new Socks5ClientHandshake(destination, "fred", "secret")
                : new Socks5ClientHandshake(destination));
    }

    private static InetAddress address(int... bytes) {
        byte[] address = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            address[i] = (byte) bytes[i];
        }
        try {
            return InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
