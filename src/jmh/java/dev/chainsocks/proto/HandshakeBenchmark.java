package dev.chainsocks.proto;

import dev.chainsocks.proto.http.HttpConnectClientHandshake;
import dev.chainsocks.proto.http.HttpProxyServerHandshake;
import dev.chainsocks.proto.socks4.Socks4ClientHandshake;
import dev.chainsocks.proto.socks4.Socks4ServerHandshake;
import dev.chainsocks.proto.socks5.Socks5ClientHandshake;
import dev.chainsocks.proto.socks5.Socks5ServerHandshake;
import dev.chainsocks.server.UserList;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One whole proxy handshake per operation, client and server side in memory: the client state machine encodes its
 * messages, the server state machine decodes them and encodes its answers, the client decodes those, until the
 * client has its outcome. No sockets: what is measured is the codecs and the state machines, and with
 * {@code -prof gc} what they allocate per handshake ({@code gc.alloc.rate.norm}, B/op).
 *
 * <p>Bytes travel as a driver would move them: the sender's outbound buffer is drained into the receiver's input
 * buffer, which the receiver consumes from.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class HandshakeBenchmark {

    private final Destination target = Destination.ip(address(93, 184, 215, 14), 443);
    private final Destination named = Destination.name("www.example.com", 443);
    private final Destination bound = Destination.ip(address(10, 0, 0, 2), 40000);
    private final Authenticator users = UserList.of(List.of("alice:correct horse battery staple"));
    private final ByteBuffer toServer = ByteBuffer.allocate(1024);
    private final ByteBuffer toClient = ByteBuffer.allocate(1024);

    @Benchmark
    public HandshakeOutcome socks5ConnectIpv4(Blackhole blackhole) {
        return handshake(new Socks5ClientHandshake(target), new Socks5ServerHandshake(Authenticator.NONE),
                blackhole);
    }

    /** The same with a host name for the proxy to resolve (address type DOMAIN), as a redirector sends it. */
    @Benchmark
    public HandshakeOutcome socks5ConnectDomain(Blackhole blackhole) {
        return handshake(new Socks5ClientHandshake(named), new Socks5ServerHandshake(Authenticator.NONE),
                blackhole);
    }

    @Benchmark
    public HandshakeOutcome socks4Connect(Blackhole blackhole) {
        return handshake(new Socks4ClientHandshake(target, ""), new Socks4ServerHandshake(Authenticator.NONE),
                blackhole);
    }

    @Benchmark
    public HandshakeOutcome httpConnect(Blackhole blackhole) {
        return handshake(new HttpConnectClientHandshake(target), new HttpProxyServerHandshake(Authenticator.NONE),
                blackhole);
    }

    @Benchmark
    public HandshakeOutcome httpConnectBasicAuth(Blackhole blackhole) {
        return handshake(new HttpConnectClientHandshake(target, "alice", "correct horse battery staple"),
                new HttpProxyServerHandshake(users), blackhole);
    }

    /**
     * Runs the two sides against each other until the client has an outcome; the server grants the request it
     * parsed. Fails loudly when the exchange stalls or is not granted, so a broken codec cannot benchmark fast.
     */
    private HandshakeOutcome handshake(ClientHandshake client, ServerHandshake server, Blackhole blackhole) {
        boolean replied = false;
        while (client.outcome() == null) {
            boolean moved = fill(toServer, client.outbound());
            if (moved) {
                server.receive(toServer);
                requireConsumed(toServer);
            }
            ServerOutcome request = server.outcome();
            if (request instanceof ServerOutcome.Request && !replied) {
                blackhole.consume(request);
                server.reply(ReplyStatus.SUCCEEDED, bound);
                replied = true;
            } else if (request != null && !(request instanceof ServerOutcome.Request)) {
                throw new IllegalStateException("server: " + request);
            }
            if (fill(toClient, server.outbound())) {
                client.receive(toClient);
                requireConsumed(toClient);
                moved = true;
            }
            if (!moved && client.outcome() == null) {
                throw new IllegalStateException("handshake stalled: " + client + ", " + server);
            }
        }
        if (!(client.outcome() instanceof HandshakeOutcome.Granted)) {
            throw new IllegalStateException("client: " + client.outcome());
        }
        return client.outcome();
    }

    /** Drains {@code outbound} into the receiver's input buffer (read mode after); false when there was nothing. */
    private static boolean fill(ByteBuffer input, ByteBuffer outbound) {
        if (!outbound.hasRemaining()) {
            return false;
        }
        input.clear();
        input.put(outbound).flip();
        return true;
    }

    /** In lockstep each side receives exactly its messages: a byte left over is a codec fault. */
    private static void requireConsumed(ByteBuffer input) {
        if (input.hasRemaining()) {
            throw new IllegalStateException(input.remaining() + " bytes not consumed");
        }
    }

    private static InetAddress address(int a, int b, int c, int d) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are an address", e);
        }
    }
}
