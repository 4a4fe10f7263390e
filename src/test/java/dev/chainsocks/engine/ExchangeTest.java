package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Exchange} driving a tiny line protocol over a real loopback connection: it sends {@code HELLO\n} and is
 * finished when one line has come back. The test holds the peer's end as a blocking socket.
 */
@Timeout(30)
class ExchangeTest {

    private static final int BUFFER_SIZE = 64;

    private EventLoop loop;
    private SocketChannel ours;
    private Socket peer;
    private final CompletableFuture<String> leftover = new CompletableFuture<>();

    /**
     * Sends a greeting, then takes one line. Like the product's decoders it consumes nothing until the whole
     * message (here: up to the first newline) is in the buffer, and nothing past it.
     */
    private static final class LineMachine {
        final ByteBuffer out = ByteBuffer.wrap("HELLO\n".getBytes(StandardCharsets.US_ASCII));
        volatile String line;

        void receive(ByteBuffer in) {
            for (int i = in.position(); i < in.limit(); i++) {
                if (in.get(i) == '\n') {
                    byte[] bytes = new byte[i - in.position()];
                    in.get(bytes);
                    in.get();
                    line = new String(bytes, StandardCharsets.US_ASCII);
                    return;
                }
            }
        }

        Exchange.Machine machine() {
            return new Exchange.Machine(this::receive, () -> out, () -> line != null);
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        loop = new EventLoop("exchange-test", new BufferPool(BUFFER_SIZE, 4));
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0))) {
            ours = SocketChannel.open(server.getLocalAddress());
            peer = server.accept().socket();
        }
        ours.configureBlocking(false);
        peer.setSoTimeout(10_000);
    }

    @AfterEach
    void tearDown() throws IOException {
        peer.close();
        ours.close();
        loop.close();
    }

    private LineMachine start(Duration timeout, byte[] alreadyRead) {
        LineMachine machine = new LineMachine();
        loop.execute(() -> {
            ByteBuffer input = alreadyRead == null ? null : loop.buffers().tryTake().put(alreadyRead).flip();
            Exchange.start(loop, ours, machine.machine(), input, timeout, "line exchange", new Exchange.Callback() {
                @Override
                public void finished(ByteBuffer rest) {
                    byte[] bytes = new byte[rest.remaining()];
                    rest.get(bytes);
                    loop.buffers().release(rest);
                    leftover.complete(new String(bytes, StandardCharsets.US_ASCII));
                }

                @Override
                public void failed(IOException cause) {
                    leftover.completeExceptionally(cause);
                }
            });
        });
        return machine;
    }

    private String peerReadsGreeting() throws IOException {
        return new String(peer.getInputStream().readNBytes(6), StandardCharsets.US_ASCII);
    }

    private Throwable failure() throws Exception {
        try {
            leftover.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("the exchange finished but was expected to fail");
    }

    private long outstandingBuffers() throws Exception {
        CompletableFuture<Long> count = new CompletableFuture<>();
        loop.execute(() -> count.complete(loop.buffers().outstanding()));
        return count.get(10, TimeUnit.SECONDS);
    }

    @Test
    void bytesPastTheReplyAreHandedBackNotConsumed() throws Exception {
        LineMachine machine = start(Duration.ofSeconds(5), null);

        assertThat(peerReadsGreeting()).isEqualTo("HELLO\n");
        peer.getOutputStream().write("OK\nearly data".getBytes(StandardCharsets.US_ASCII));

        assertThat(leftover.get(10, TimeUnit.SECONDS)).isEqualTo("early data");
        assertThat(machine.line).isEqualTo("OK");
        assertThat(outstandingBuffers()).isZero();
    }

    @Test
    void aReplyArrivingInPiecesIsAssembled() throws Exception {
        LineMachine machine = start(Duration.ofSeconds(5), null);

        assertThat(peerReadsGreeting()).isEqualTo("HELLO\n");
        OutputStream out = peer.getOutputStream();
        for (String piece : new String[] {"WEL", "CO", "ME\n"}) {
            out.write(piece.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(30);
        }

        assertThat(leftover.get(10, TimeUnit.SECONDS)).isEmpty();
        assertThat(machine.line).isEqualTo("WELCOME");
    }

    @Test
    void bytesAlreadyReadAreFedFirstAndTheGreetingIsStillSent() throws Exception {
        LineMachine machine = start(Duration.ofSeconds(5), "READY\nthen more".getBytes(StandardCharsets.US_ASCII));

        assertThat(peerReadsGreeting()).isEqualTo("HELLO\n");
        assertThat(leftover.get(10, TimeUnit.SECONDS)).isEqualTo("then more");
        assertThat(machine.line).isEqualTo("READY");
        assertThat(outstandingBuffers()).isZero();
    }

    @Test
    void peerClosingBeforeTheReplyFailsAndReleasesTheBuffer() throws Exception {
        start(Duration.ofSeconds(5), null);

        assertThat(peerReadsGreeting()).isEqualTo("HELLO\n");
        peer.getOutputStream().write("NO NEWLINE".getBytes(StandardCharsets.US_ASCII));
        peer.shutdownOutput();

        assertThat(failure()).isInstanceOf(EOFException.class)
                .hasMessage("line exchange: peer closed the connection");
        assertThat(outstandingBuffers()).isZero();
        assertThat(ours.isOpen()).as("the exchange leaves closing to its caller").isTrue();
    }

    @Test
    void silentPeerFailsAtTheDeadline() throws Exception {
        long start = System.nanoTime();
        start(Duration.ofMillis(200), null);

        assertThat(failure()).isInstanceOf(SocketTimeoutException.class)
                .hasMessageStartingWith("line exchange did not finish within ");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(190),
                Duration.ofSeconds(3));
        assertThat(outstandingBuffers()).isZero();
    }

    @Test
    void aMessageThatDoesNotFitTheBufferFails() throws Exception {
        start(Duration.ofSeconds(5), null);

        assertThat(peerReadsGreeting()).isEqualTo("HELLO\n");
        // The input grows from 1 KiB as a message needs, up to a cap well above any handshake message.
        peer.getOutputStream().write(new byte[Exchange.MAX_INPUT_SIZE + 10]);

        Throwable failure = failure();
        assertThat(failure).isInstanceOf(IOException.class);
        assertThat(failure.getMessage()).isEqualTo("line exchange: handshake message larger than "
                + Exchange.MAX_INPUT_SIZE + " bytes");
        assertThat(outstandingBuffers()).isZero();
    }
}
