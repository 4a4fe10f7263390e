package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The relay between two real loopback connections: "client app" <-> [relay] <-> "upstream app". Each test holds the
 * two outer ends as blocking sockets and checks what crosses, in both relay modes.
 */
@Timeout(30)
class RelayTest {

    private static final int BUFFER_SIZE = 16 * 1024;

    private EventLoop loop;
    private Socket clientApp;
    private Socket upstreamApp;
    private final CompletableFuture<Relay.Result> result = new CompletableFuture<>();
    private final List<Socket> extraSockets = new ArrayList<>();

    private void start(RelayMode mode) {
        start(new BufferPool(mode, BUFFER_SIZE, 4));
    }

    private void start(BufferPool pool) {
        loop = new EventLoop("test-loop", pool);
    }

    @BeforeAll
    static void spliceWorksHere() {
        assertThat(dev.chainsocks.linux.Splice.unavailableReason()).as("splice(2) needed by the SPLICE cases").isEmpty();
    }

    @AfterEach
    void tearDown() throws IOException {
        for (Socket socket : extraSockets) {
            socket.close();
        }
        if (clientApp != null) {
            clientApp.close();
        }
        if (upstreamApp != null) {
            upstreamApp.close();
        }
        if (loop != null) {
            loop.close();
        }
    }

    /** The two outer ends of one relay and how it ended. */
    private record Pair(Socket clientApp, Socket upstreamApp, CompletableFuture<Relay.Result> result) {
    }

    /** Builds the two connected pairs and starts a relay between their inner ends. */
    private void relay(Duration idle, byte[] toUpstream, byte[] toClient) throws Exception {
        Pair pair = pair(idle, toUpstream, toClient, result, 0);
        clientApp = pair.clientApp();
        upstreamApp = pair.upstreamApp();
    }

    /** A relay whose outer sockets have small kernel buffers when {@code socketBuffer} is positive. */
    private Pair pair(Duration idle, byte[] toUpstream, byte[] toClient, CompletableFuture<Relay.Result> ended,
            int socketBuffer) throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocketChannel front = ServerSocketChannel.open();
                ServerSocket back = new ServerSocket()) {
            if (socketBuffer > 0) {
                front.setOption(StandardSocketOptions.SO_RCVBUF, socketBuffer);
                back.setReceiveBufferSize(socketBuffer);
            }
            front.bind(new InetSocketAddress(lo, 0));
            back.bind(new InetSocketAddress(lo, 0), 1);
            Socket clientEnd = new Socket();
            if (socketBuffer > 0) {
                clientEnd.setReceiveBufferSize(socketBuffer);
                clientEnd.setSendBufferSize(socketBuffer);
            }
            clientEnd.connect(new InetSocketAddress(lo, front.socket().getLocalPort()));
            SocketChannel relayClientSide = front.accept();
            SocketChannel relayUpstreamSide = SocketChannel.open();
            if (socketBuffer > 0) {
                relayClientSide.setOption(StandardSocketOptions.SO_SNDBUF, socketBuffer);
                relayUpstreamSide.setOption(StandardSocketOptions.SO_RCVBUF, socketBuffer);
            }
            relayUpstreamSide.connect(new InetSocketAddress(lo, back.getLocalPort()));
            Socket upstreamEnd = back.accept();
            if (socketBuffer > 0) {
                upstreamEnd.setSendBufferSize(socketBuffer);
            }
            relayClientSide.configureBlocking(false);
            relayUpstreamSide.configureBlocking(false);
            loop.execute(() -> Relay.start(loop, relayClientSide, relayUpstreamSide, pooled(toUpstream),
                    pooled(toClient), idle, ended::complete));
            return new Pair(clientEnd, upstreamEnd, ended);
        }
    }

    private <T> T onLoop(java.util.function.Supplier<T> query) throws Exception {
        CompletableFuture<T> answer = new CompletableFuture<>();
        loop.execute(() -> answer.complete(query.get()));
        return answer.get(5, TimeUnit.SECONDS);
    }

    private BufferPool.Stats stats() throws Exception {
        return onLoop(() -> loop.buffers().stats());
    }

    /** Waits until the loop's pool satisfies {@code condition}: an event the relay causes, checked on the loop. */
    private void awaitPool(java.util.function.Predicate<BufferPool> condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!onLoop(() -> condition.test(loop.buffers()))) {
            assertThat(System.nanoTime()).as("waiting for: " + what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private ByteBuffer pooled(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        return loop.buffers().tryTake().put(bytes).flip();
    }

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void copiesBothWaysAndEndsCleanlyWhenBothSidesClose(RelayMode mode) throws Exception {
        start(mode);
        relay(Duration.ofMinutes(1), null, null);
        clientApp.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
        assertThat(upstreamApp.getInputStream().readNBytes(4)).asString().isEqualTo("ping");
        upstreamApp.getOutputStream().write("pong!".getBytes(StandardCharsets.US_ASCII));
        assertThat(clientApp.getInputStream().readNBytes(5)).asString().isEqualTo("pong!");
        // Delivered, so nothing is held: an idle relay keeps no buffer and no pipe (2 fds per connection).
        assertThat(onLoop(() -> loop.buffers().outstanding())).isZero();
        clientApp.shutdownOutput();
        assertThat(upstreamApp.getInputStream().read()).isEqualTo(-1);
        upstreamApp.shutdownOutput();
        assertThat(clientApp.getInputStream().read()).isEqualTo(-1);
        Relay.Result end = result.get(5, TimeUnit.SECONDS);
        assertThat(end).isEqualTo(new Relay.Result(4, 5, Relay.Ending.COMPLETED, ""));
        assertThat(loop.buffers().outstanding()).isZero();
    }

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void halfCloseStillDeliversTheWholeReply(RelayMode mode) throws Exception {
        start(mode);
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

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void largeStreamsBothWaysArriveIntactWithBackpressure(RelayMode mode) throws Exception {
        start(mode);
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
        BufferPool.Stats moved = stats();
        // Every byte went the mode's way: through pipes when splicing, through buffers when copying.
        assertThat(moved.splicedBytes()).isEqualTo(mode == RelayMode.SPLICE ? 2L * size : 0);
        assertThat(moved.copiedBytes()).isEqualTo(mode == RelayMode.COPY ? 2L * size : 0);
        assertThat(moved.unbufferedBytes()).isZero();
    }

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void slowReaderStopsTheRelayFromReadingMore(RelayMode mode) throws Exception {
        start(mode);
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

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void pendingBytesFromTheHandshakesAreDeliveredFirst(RelayMode mode) throws Exception {
        start(mode);
        relay(Duration.ofMinutes(1), "early-up".getBytes(StandardCharsets.US_ASCII),
                "early-down".getBytes(StandardCharsets.US_ASCII));
        assertThat(upstreamApp.getInputStream().readNBytes(8)).asString().isEqualTo("early-up");
        assertThat(clientApp.getInputStream().readNBytes(10)).asString().isEqualTo("early-down");
        clientApp.close();
        upstreamApp.close();
        assertThat(result.get(5, TimeUnit.SECONDS).bytesUp()).isEqualTo(8);
    }

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void idleRelayIsClosedAfterTheTimeout(RelayMode mode) throws Exception {
        start(mode);
        relay(Duration.ofMillis(300), null, null);
        Relay.Result end = result.get(5, TimeUnit.SECONDS);
        assertThat(end.ending()).isEqualTo(Relay.Ending.IDLE_TIMEOUT);
        assertThat(end.outcome()).startsWith("idle timeout");
        assertThat(clientApp.getInputStream().read()).isEqualTo(-1);
        assertThat(upstreamApp.getInputStream().read()).isEqualTo(-1);
    }

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void resetOnOneSideResetsTheOther(RelayMode mode) throws Exception {
        start(mode);
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

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void stalledReadersThatHoldTheWholeBudgetDoNotStopOtherRelays(RelayMode mode) throws Exception {
        start(new BufferPool(mode, BUFFER_SIZE, 2));
        int stalledBytes = 1024 * 1024;
        List<Pair> stalled = new ArrayList<>();
        List<CompletableFuture<Void>> writers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Pair pair = pair(Duration.ofMinutes(1), null, null, new CompletableFuture<>(), 8 * 1024);
            stalled.add(pair);
            extraSockets.add(pair.clientApp());
            extraSockets.add(pair.upstreamApp());
            writers.add(CompletableFuture.runAsync(() -> sendZeros(pair.upstreamApp(), stalledBytes)));
        }
        // Nobody reads the stalled downloads: they take both carriers, and the third holds nothing.
        awaitPool(pool -> pool.outstanding() == 2, "the stalled relays hold the whole budget");

        relay(Duration.ofMinutes(1), null, null);
        int size = 2 * 1024 * 1024;
        CompletableFuture<byte[]> upstreamDigest = CompletableFuture.supplyAsync(() -> digestAll(upstreamApp));
        CompletableFuture<byte[]> clientDigest = CompletableFuture.supplyAsync(() -> digestAll(clientApp));
        CompletableFuture<byte[]> sentUp = CompletableFuture.supplyAsync(() -> sendRandom(clientApp, 3, size));
        CompletableFuture<byte[]> sentDown = CompletableFuture.supplyAsync(() -> sendRandom(upstreamApp, 4, size));
        assertThat(upstreamDigest.get(20, TimeUnit.SECONDS)).isEqualTo(sentUp.get());
        assertThat(clientDigest.get(20, TimeUnit.SECONDS)).isEqualTo(sentDown.get());
        assertThat(result.get(5, TimeUnit.SECONDS)).isEqualTo(new Relay.Result(size, size, Relay.Ending.COMPLETED, ""));
        BufferPool.Stats moved = stats();
        assertThat(moved.unbufferedBytes()).as("bytes moved while the budget was spent").isGreaterThan(0);
        assertThat(onLoop(() -> loop.buffers().outstanding())).isLessThanOrEqualTo(2);

        // Nothing was lost on the stalled ones either: every byte arrives once their readers read.
        List<CompletableFuture<Long>> received = new ArrayList<>();
        for (Pair pair : stalled) {
            received.add(CompletableFuture.supplyAsync(() -> countUntilEnd(pair.clientApp())));
        }
        for (int i = 0; i < stalled.size(); i++) {
            writers.get(i).get(20, TimeUnit.SECONDS);
            assertThat(received.get(i).get(20, TimeUnit.SECONDS)).isEqualTo(stalledBytes);
        }
    }

    @Test
    void withoutTheUnbufferedCopyADirectionWaitsForAReleasedBuffer() throws Exception {
        start(new BufferPool(RelayMode.COPY, BUFFER_SIZE, 1, false));
        int stalledBytes = 512 * 1024;
        Pair stalled = pair(Duration.ofMinutes(1), null, null, new CompletableFuture<>(), 8 * 1024);
        extraSockets.add(stalled.clientApp());
        extraSockets.add(stalled.upstreamApp());
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> sendZeros(stalled.upstreamApp(), stalledBytes));
        awaitPool(pool -> pool.outstanding() == 1, "the stalled relay holds the only buffer");

        relay(Duration.ofMinutes(1), null, null);
        byte[] request = "waits its turn".getBytes(StandardCharsets.US_ASCII);
        clientApp.getOutputStream().write(request);
        awaitPool(pool -> pool.stats().waiting() == 1, "the new relay waits for a buffer");
        assertThat(upstreamApp.getInputStream().available()).as("nothing read while waiting").isZero();

        // The stalled reader reads: released buffers go to the waiting direction, and everything arrives.
        CompletableFuture<Long> drained = CompletableFuture.supplyAsync(() -> countUntilEnd(stalled.clientApp()));
        assertThat(upstreamApp.getInputStream().readNBytes(request.length)).isEqualTo(request);
        writer.get(20, TimeUnit.SECONDS);
        assertThat(drained.get(20, TimeUnit.SECONDS)).isEqualTo(stalledBytes);
        assertThat(stats().unbufferedBytes()).isZero();
    }

    private static void sendZeros(Socket socket, int size) {
        try {
            socket.getOutputStream().write(new byte[size]);
            socket.shutdownOutput();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static long countUntilEnd(Socket socket) {
        try {
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            int n;
            InputStream in = socket.getInputStream();
            while ((n = in.read(buffer)) >= 0) {
                total += n;
            }
            return total;
        } catch (IOException e) {
            throw new RuntimeException(e);
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
