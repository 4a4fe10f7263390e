package dev.chainsocks.server;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.chainsocks.fuzz.FuzzInput;
import dev.chainsocks.fuzz.Reads;
import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.ServerHandshake;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.TestAuthenticator;
import dev.chainsocks.proto.WireProperties;
import dev.chainsocks.proto.ServerOutcome.ProxyProtocol;
import dev.chainsocks.server.ProtocolSniffer.Guess;
import dev.chainsocks.proto.http.HttpCodec;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the bundled server's front door: the first byte picks the protocol ({@link ProtocolSniffer}), and
 * that protocol's handshake takes all the bytes, checked against {@link WireProperties}. A request must come out in
 * the protocol the first byte announced. Seeds are under
 * {@code src/test/resources/dev/chainsocks/proto/ProtocolSnifferFuzzTestInputs/}.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class ProtocolSnifferFuzzTest {

    /** The longest a server handshake may hold bytes without an outcome: an HTTP head. */
    static final int MAX_PENDING_BYTES = HttpCodec.MAX_HEAD_BYTES;

    /**
     * Input: a client's bytes, the reads trailer (00: one read), then one byte choosing the users (even: none
     * required; odd: fred/secret and Fred).
     */
    @FuzzTest
    public void sniffedServer(byte[] input) {
        FuzzInput in = FuzzInput.of(input);
        Authenticator users = in.flag() ? TestAuthenticator.USERS : Authenticator.NONE;
        Reads reads = in.reads();
        if (reads.message().length == 0) {
            return;
        }
        int first = reads.message()[0];
        Guess guess = ProtocolSniffer.classify(first);
        Optional<ServerHandshake> handshake = ProtocolSniffer.handshakeFor(first, users);
        if (handshake.isPresent() == (guess == Guess.UNKNOWN)) {
            throw WireProperties.broken("first byte read as " + guess + " but handshake " + handshake, reads);
        }
        if (handshake.isEmpty()) {
            return;
        }
        WireProperties.ServerRun run = WireProperties.server(reads, MAX_PENDING_BYTES,
                () -> ProtocolSniffer.handshakeFor(first, users).orElseThrow());
        if (run.outcome() instanceof ServerOutcome.Request request && !announces(guess, request.protocol())) {
            throw WireProperties.broken("first byte announced " + guess + ", the request is " + request, reads);
        }
    }

    private static boolean announces(Guess guess, ProxyProtocol protocol) {
        return switch (guess) {
            case SOCKS4 -> protocol == ProxyProtocol.SOCKS4 || protocol == ProxyProtocol.SOCKS4A;
            case SOCKS5 -> protocol == ProxyProtocol.SOCKS5;
            case HTTP -> protocol == ProxyProtocol.HTTP;
            case UNKNOWN -> false;
        };
    }
}
