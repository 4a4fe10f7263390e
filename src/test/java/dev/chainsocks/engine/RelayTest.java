package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The relay between two real loopback connections: "client app" <-> [relay] <-> "upstream app". Each test holds the
 * two outer ends as blocking sockets and checks what crosses.
 */
@Timeout(30)
class RelayTest {

    private EventLoop loop;
    private Socket clientApp;
    private Socket upstreamApp;
    private final CompletableFuture<Relay.Result> result = new CompletableFuture<>();

    @BeforeEach
    void setUp() {
        loop = new EventLoop("test-loop", new BufferPool(16 * 1024, 4));
    }

    @AfterEach
    void tearDown() throws IOException {
        if (clientApp != null) {
            clientApp.close();
        }
        if (upstreamApp != null) {
            upstreamApp.close();
        }
        loop.close();
    }

    /** Builds the two connected pairs and starts a relay between their inner ends. */
    private void relay(Duration idle, byte[] toUpstream, byte[] toClient) throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocketChannel front = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0));
                ServerSocket back = new ServerSocket(0, 1, lo)) {
            clientApp = new Socket(lo, front.socket().getLocalPort());
            SocketChannel relayClientSide = front.accept();
            SocketChannel relayUpstreamSide = SocketChannel.open(new InetSocketAddress(lo, back.getLocalPort()));
            upstreamApp = back.accept();
            relayClientSide.configureBlocking(false);
            relayUpstreamSide.configureBlocking(false);
            loop.execute(() -> Relay.start(loop, relayClientSide, relayUpstreamSide, pooled(toUpstream),
                    pooled(toClient), idle, result::complete));
        }
    }

    private ByteBuffer pooled(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        return loop.buffers().take().put(bytes).flip();
    }

    @Test
    void copiesBothWaysAndEndsCleanlyWhenBothSidesClose() throws Exception {
        relay(Duration.ofMinutes(1), null, null);
        clientApp.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
        assertThat(upstreamApp.getInputStream().readNBytes(4)).asString().isEqualTo("ping");
        upstreamApp.getOutputStream().write("pong!".getBytes(StandardCharsets.US_ASCII));
        assertThat(clientApp.getInputStream().readNBytes(5)).asString().isEqualTo("pong!");
        clientApp.shutdownOutput();
        assertThat(upstreamApp.getInputStream().read()).isEqualTo(-1);
        upstreamApp.shutdownOutput();
        assertThat(clientApp.getInputStream().read()).isEqualTo(-1);
        Relay.Result end = result.get(5, TimeUnit.SECONDS);
        assertThat(end).isEqualTo(new Relay.Result(4, 5, Relay.Ending.COMPLETED, ""));
        assertThat(loop.buffers().outstanding()).isZero();
    }

    @Test
    void halfCloseStillDeliversTheWholeReply() throws Exception {
        relay(Duration.ofMinutes(1), null, null);
        byte[] request = "request body".getBytes(StandardCharsets.US_ASCII);
        clientApp.getOutputStream().write(request);
        clientApp.shutdownOutput();
        assertThat(upstreamApp.getInputStream().readAllBytes()).isEqualTo(request);
        byte[] reply = new byte[3 * 1024 * 1024];
        new Random(7).nextBytes(reply);
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> readAll(clientApp));
        upstreamApp.getOutputStream().write(reply);
        upstreamApp.shutdownOutput();
        assertThat(received.get(10, TimeUnit.SECONDS)).isEqualTo(reply);
        assertThat(result.get(5, TimeUnit.SECONDS)).isEqualTo(new Relay.Result(request.length, reply.length, Relay.Ending.COMPLETED, ""));
    }

    @Test
    void largeStreamsBothWaysArriveIntactWithBackpressure() throws Exception {
        relay(Duration.ofMinutes(1), null, null);
        int size = 32 * 1024 * 1024;
        CompletableFuture<byte[]> upstreamDigest = CompletableFuture.supplyAsync(() -> digestAll(upstreamApp));
        CompletableFuture<byte[]> clientDigest = CompletableFuture.supplyAsync(() -> digestAll(clientApp));
        CompletableFuture<byte[]> sentUp = CompletableFuture.supplyAsync(() -> sendRandom(clientApp, 1, size));
        CompletableFuture<byte[]> sentDown = CompletableFuture.supplyAsync(() -> sendRandom(upstreamApp, 2, size));
        assertThat(upstreamDigest.get(20, TimeUnit.SECONDS)).isEqualTo(sentUp.get());
        assertThat(clientDigest.get(20, TimeUnit.SECONDS)).isEqualTo(sentDown.get());
        assertThat(result.get(5, TimeUnit.SECONDS)).isEqualTo(new Relay.Result(size, size, Relay.Ending.COMPLETED, ""));
        assertThat(loop.buffers().outstanding()).isZero();
    }

    @Test
    void slowReaderStopsTheRelayFromReadingMore() throws Exception {
        relay(Duration.ofMinutes(1), null, null);
        OutputStream out = upstreamApp.getOutputStream();
        byte[] chunk = new byte[64 * 1024];
        upstreamApp.setSoTimeout(0);
        // Nobody reads on the client side: the relay may hold one buffer, the kernels hold the rest, then the
        // upstream writer must block. A writer that never blocks would mean the relay buffers without bound.
        CompletableFuture<Integer> written = CompletableFuture.supplyAsync(() -> {
            int chunks = 0;
            try {
                for (; chunks < 2000; chunks++) {
                    out.write(chunk);
                }
            } catch (IOException e) {
                return -1;
            }
            return chunks;
        });
        Thread.sleep(1500);
        assertThat(written).isNotDone();
        assertThat(loop.buffers().outstanding()).isLessThanOrEqualTo(1);
        clientApp.close();
        upstreamApp.close();
    }

    @Test
    void pendingBytesFromTheHandshakesAreDeliveredFirst() throws Exception {
        relay(Duration.ofMinutes(1), "early-up".getBytes(StandardCharsets.US_ASCII),
                "early-down".getBytes(StandardCharsets.US_ASCII));
        assertThat(upstreamApp.getInputStream().readNBytes(8)).asString().isEqualTo("early-up");
        assertThat(clientApp.getInputStream().readNBytes(10)).asString().isEqualTo("early-down");
        clientApp.close();
        upstreamApp.close();
        assertThat(result.get(5, TimeUnit.SECONDS).bytesUp()).isEqualTo(8);
    }

    @Test
    void idleRelayIsClosedAfterTheTimeout() throws Exception {
        relay(Duration.ofMillis(300), null, null);
        Relay.Result end = result.get(5, TimeUnit.SECONDS);
        assertThat(end.ending()).isEqualTo(Relay.Ending.IDLE_TIMEOUT);
        assertThat(end.outcome()).startsWith("idle timeout");
        assertThat(clientApp.getInputStream().read()).isEqualTo(-1);
        assertThat(upstreamApp.getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void resetOnOneSideResetsTheOther() throws Exception {
        relay(Duration.ofMinutes(1), null, null);
        upstreamApp.setSoLinger(true, 0);
        upstreamApp.close();
        Relay.Result end = result.get(5, TimeUnit.SECONDS);
        assertThat(end.ending()).isEqualTo(Relay.Ending.FAILED);
        InputStream in = clientApp.getInputStream();
        try {
            assertThat(in.read()).isEqualTo(-1);
        } catch (IOException expected) {
            assertThat(expected).hasMessageContaining("reset");
        }
    }

    private static byte[] readAll(Socket socket) {
        try {
            return socket.getInputStream().readAllBytes();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] digestAll(Socket socket) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                sha.update(buffer, 0, n);
            }
            return sha.digest();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] sendRandom(Socket socket, long seed, int size) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Random random = new Random(seed);
            byte[] chunk = new byte[50_000];
            OutputStream out = socket.getOutputStream();
            int left = size;
            while (left > 0) {
                int n = Math.min(chunk.length, left);
                random.nextBytes(chunk);
                out.write(chunk, 0, n);
                sha.update(chunk, 0, n);
                left -= n;
            }
            socket.shutdownOutput();
            return sha.digest();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
