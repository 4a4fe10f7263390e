package dev.chainsocks.proto.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.chainsocks.fuzz.FuzzInput;
import dev.chainsocks.fuzz.Reads;
import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.ServerOutcome.Command;
import dev.chainsocks.proto.TestAuthenticator;
import dev.chainsocks.proto.WireProperties;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz tests of the HTTP/1.x head codec, the HTTP proxy server handshake and the CONNECT client handshake against
 * {@link WireProperties}. Seeds are under {@code src/test/resources/dev/chainsocks/proto/http/HttpFuzzTestInputs/};
 * {@code docs/testing.md} has the input layout and how to fuzz one target.
 *
 * <p>Each target can repeat its input past {@link HttpCodec#MAX_HEAD_BYTES}, since the fuzzer's own inputs stay
 * under 4 KiB and the cap on the head is a property too.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class HttpFuzzTest {

    static final int MAX = HttpCodec.MAX_HEAD_BYTES;
    static final InetAddress IPV6_LOOPBACK = ipv6Loopback();

    /** Input: head bytes, the reads trailer (00: one read), then a byte: odd repeats the bytes past 16 KiB. */
    @FuzzTest
    public void requestHead(byte[] input) {
        WireProperties.decoder(reads(FuzzInput.of(input)), MAX, HttpCodec::decodeRequestHead,
                HttpCodec::encodeRequestHead);
    }

    /** Input: as {@link #requestHead}. */
    @FuzzTest
    public void responseHead(byte[] input) {
        WireProperties.decoder(reads(FuzzInput.of(input)), MAX, HttpCodec::decodeResponseHead,
                HttpCodec::encodeResponseHead);
    }

    /**
     * Input: a client's bytes, the reads trailer, then one byte: bit 0 repeats the bytes past 16 KiB, bit 1 makes
     * the server require fred/secret (Basic). A CONNECT that was accepted is asked for again by our own client; a
     * request to forward must yield a head the origin can parse, in origin form, with {@code Connection: close}.
     */
    @FuzzTest
    public void proxyServerHandshake(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        int options = in.choose(4);
        Authenticator users = (options & 2) != 0 ? TestAuthenticator.USERS : Authenticator.NONE;
        Reads reads = (options & 1) != 0 ? in.reads().repeatedBeyond(MAX) : in.reads();
        WireProperties.ServerRun run = WireProperties.server(reads, MAX, () -> new HttpProxyServerHandshake(users));
        requireClientCanRead(run, reads);
        if (!(run.outcome() instanceof ServerOutcome.Request request)) {
            return;
        }
        HttpProxyServerHandshake server = (HttpProxyServerHandshake) run.handshake();
        if (request.command() == Command.HTTP_FORWARD) {
            Decoded<HttpRequestHead> forwarded = HttpCodec.decodeRequestHead(server.forwardHead());
            if (!(forwarded instanceof Decoded.Message<HttpRequestHead> head)
                    || !head.message().target().startsWith("/")
                    || !head.message().header("Connection").equals(Optional.of("close"))
                    || head.message().header("Proxy-Authorization").isPresent()) {
                throw WireProperties.broken("the head forwarded for " + request + " is " + forwarded, reads);
            }
        }
        server.reply(ReplyStatus.SUCCEEDED, null);
        boolean tunnel = request.command() == Command.CONNECT;
        if (server.outbound().hasRemaining() != tunnel) {
            throw WireProperties.broken("answer to a granted " + request.command() + ": "
                    + server.outbound().remaining() + " bytes", reads);
        }
        try {
            server.reply(ReplyStatus.GENERAL_FAILURE, null);
            throw WireProperties.broken("a second reply was accepted", reads);
        } catch (IllegalStateException expected) {
            // An HTTP request is answered once.
        }
        if (tunnel) {
            HttpConnectClientHandshake client = request.user() == null
                    ? new HttpConnectClientHandshake(request.destination())
                    : new HttpConnectClientHandshake(request.destination(), request.user(),
                            TestAuthenticator.USERS.passwords().get(request.user()));
            ServerOutcome again = WireProperties.converse(client, new HttpProxyServerHandshake(users), null);
            if (!request.equals(again)) {
                throw WireProperties.broken("our client asking for " + request + " was read as " + again, reads);
            }
        }
    }

    /**
     * A rejection is answered with a response our own client parses: 400, or 407 with a Basic challenge, and a body
     * of exactly its Content-Length. Nothing is sent before a request is replied to.
     */
    private static void requireClientCanRead(WireProperties.ServerRun run, Reads reads) {
        ByteBuffer answer = ByteBuffer.wrap(run.answer());
        boolean readable;
        if (!(run.outcome() instanceof ServerOutcome.Rejected)) {
            readable = !answer.hasRemaining();
        } else if (HttpCodec.decodeResponseHead(answer) instanceof Decoded.Message<HttpResponseHead> head) {
            HttpResponseHead response = head.message();
            readable = (response.status() == 400 || response.status() == 407
                    && response.header("Proxy-Authenticate").isPresent())
                    && response.header("Content-Length").equals(Optional.of(String.valueOf(answer.remaining())));
        } else {
            readable = false;
        }
        if (!readable) {
            throw WireProperties.broken("with outcome " + run.outcome() + " the server sent "
                    + new String(run.answer(), StandardCharsets.ISO_8859_1), reads);
        }
    }

    /**
     * Input: the proxy's bytes, the reads trailer, then one byte: bit 0 repeats the bytes past 16 KiB, bit 1 sends
     * Basic credentials, bit 2 asks for an IPv6 address instead of example.com.
     */
    @FuzzTest
    public void connectClientHandshake(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        int options = in.choose(8);
        Reads reads = (options & 1) != 0 ? in.reads().repeatedBeyond(MAX) : in.reads();
        Destination destination = (options & 4) != 0
                ? new Destination.Ip(IPV6_LOOPBACK, 443)
                : Destination.name("example.com", 443);
        WireProperties.client(reads, MAX, () -> (options & 2) != 0
                ? new HttpConnectClientHandshake(destination, "fred", "secret")
                : new HttpConnectClientHandshake(destination));
    }

    private static InetAddress ipv6Loopback() {
        byte[] address = new byte[16];
        address[15] = 1;
        try {
            return InetAddress.getByAddress(address);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static Reads reads(FuzzInput in) {
        boolean repeated = in.flag();
        Reads reads = in.reads();
        return repeated ? reads.repeatedBeyond(MAX) : reads;
    }
}
