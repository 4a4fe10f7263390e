package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.ProtectionException;
import dev.chainsocks.proto.ScriptedGssapi;
import dev.chainsocks.proto.StreamProtection;
import dev.chainsocks.proto.socks5.Socks5GssapiProtection;
import dev.chainsocks.proto.socks5.Socks5GssapiStreamProtection;
import java.io.ByteArrayOutputStream;
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
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The relay with per-message protection on one side (SOCKS5 GSS-API, RFC 1961 section 5, over the scripted
 * mechanism) between two real loopback connections. The test's socket on the protected side plays the protecting
 * peer (the proxy, or on the bundled server the client): it writes protected messages and unprotects what it reads.
 */
@Timeout(30)
class ProtectedRelayTest {

    private static final int BUFFER_SIZE = 128 * 1024;
    private static final String PEER = "hop 1/1 socks5+gssapi://proxy.test:1080";

    private EventLoop loop;
    private Socket clientApp;
    private Socket upstreamApp;
    private StreamProtection peer;
    private final CompletableFuture<Relay.Result> result = new CompletableFuture<>();

    @AfterEach
    void tearDown() throws IOException {
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

    /**
     * Starts a relay whose {@code side} is protected at {@code level}; {@code plaintextUp}/{@code plaintextDown}
     * are handshake leftovers, {@code wire} unread protected bytes.
     */
    private void relay(Relay.ProtectedSide side, Socks5GssapiProtection level, byte[] plaintextUp,
            byte[] plaintextDown, byte[] wire) throws Exception {
        loop = new EventLoop("test-loop", new BufferPool(RelayMode.SPLICE, BUFFER_SIZE, 4));
        ScriptedGssapi[] contexts = ScriptedGssapi.establishedPair(0x07);
        StreamProtection relayed = new Socks5GssapiStreamProtection(contexts[0], level);
        peer = new Socks5GssapiStreamProtection(contexts[1], level);
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocketChannel front = ServerSocketChannel.open(); ServerSocket back = new ServerSocket()) {
            front.bind(new InetSocketAddress(lo, 0));
            back.bind(new InetSocketAddress(lo, 0), 1);
            clientApp = new Socket();
            clientApp.connect(new InetSocketAddress(lo, front.socket().getLocalPort()));
            SocketChannel relayClientSide = front.accept();
            SocketChannel relayUpstreamSide = SocketChannel.open();
            relayUpstreamSide.connect(new InetSocketAddress(lo, back.getLocalPort()));
            upstreamApp = back.accept();
            relayClientSide.configureBlocking(false);
            relayUpstreamSide.configureBlocking(false);
            Relay.Protection protection = new Relay.Protection(relayed, side, PEER,
                    wire == null ? ByteBuffer.allocate(0) : ByteBuffer.wrap(wire));
            loop.execute(() -> Relay.startProtected(loop, relayClientSide, relayUpstreamSide, protection,
                    heap(plaintextUp), heap(plaintextDown), Duration.ofMinutes(1), result::complete));
        }
    }

    private static ByteBuffer heap(byte[] bytes) {
        return bytes == null ? null : ByteBuffer.wrap(bytes);
    }

    /** The test socket on the protected side, and the one on the plain side. */
    private Socket protectedApp(Relay.ProtectedSide side) {
        return side == Relay.ProtectedSide.UPSTREAM ? upstreamApp : clientApp;
    }

    private Socket plainApp(Relay.ProtectedSide side) {
        return side == Relay.ProtectedSide.UPSTREAM ? clientApp : upstreamApp;
    }

    static java.util.stream.Stream<Arguments> sidesAndLevels() {
        return java.util.stream.Stream.of(Relay.ProtectedSide.values()).flatMap(side -> java.util.stream.Stream.of(
                Socks5GssapiProtection.INTEGRITY, Socks5GssapiProtection.CONFIDENTIALITY)
                .map(level -> Arguments.of(side, level)));
    }

    @ParameterizedTest(name = "{0} side, {1}")
    @MethodSource("sidesAndLevels")
    void bothWaysIntactThroughTheProtectionWithHalfCloses(Relay.ProtectedSide side, Socks5GssapiProtection level)
            throws Exception {
        relay(side, level, null, null, null);
        int size = 3 * 1024 * 1024 + 17;
        Socket plain = plainApp(side);
        Socket wrapped = protectedApp(side);
        ByteArrayOutputStream wireSeen = new ByteArrayOutputStream();
        CompletableFuture<byte[]> unprotectedAtPeer = CompletableFuture.supplyAsync(() -> unprotectAll(wrapped,
                wireSeen));
        CompletableFuture<byte[]> atPlainApp = CompletableFuture.supplyAsync(() -> digestAll(plain));
        CompletableFuture<byte[]> sentPlain = CompletableFuture.supplyAsync(() -> sendRandom(plain, 1, size));
        CompletableFuture<byte[]> sentProtected = CompletableFuture.supplyAsync(() -> sendProtected(wrapped, 2,
                size));
        byte[] sent = sentPlain.get(20, TimeUnit.SECONDS);
        assertThat(sha(unprotectedAtPeer.get(20, TimeUnit.SECONDS))).isEqualTo(sent);
        assertThat(atPlainApp.get(20, TimeUnit.SECONDS)).isEqualTo(sentProtected.get());
        assertThat(result.get(5, TimeUnit.SECONDS)).isEqualTo(new Relay.Result(size, size, Relay.Ending.COMPLETED,
                ""));
        assertThat(loop.buffers().outstanding()).isZero();
        assertThat(loop.buffers().stats().splicedBytes()).as("a protected relay copies on a splicing loop")
                .isZero();
        byte[] firstPlain = Arrays.copyOf(randomBytes(1, size), 64);
        assertThat(indexOf(wireSeen.toByteArray(), firstPlain) >= 0)
                .as("the first 64 bytes sent appear in clear on the wire only with integrity")
                .isEqualTo(level == Socks5GssapiProtection.INTEGRITY);
    }

    @Test
    void leftoversFromTheHandshakesComeFirstAndAMessageSplitAcrossReadsArrivesWhole() throws Exception {
        Socks5GssapiProtection level = Socks5GssapiProtection.CONFIDENTIALITY;
        ScriptedGssapi[] probe = ScriptedGssapi.establishedPair(0x07);
        byte[] unread = drain(new Socks5GssapiStreamProtection(probe[1], level).protect(ByteBuffer.wrap(ascii("-unread"))));
        relay(Relay.ProtectedSide.UPSTREAM, level, ascii("pipelined"), ascii("early"), unread);
        assertThat(new String(unprotectN(upstreamApp, 9), StandardCharsets.US_ASCII)).isEqualTo("pipelined");
        assertThat(readN(clientApp, 12)).isEqualTo(ascii("early-unread"));
        byte[] message = drain(peer.protect(ByteBuffer.wrap(ascii("split message"))));
        OutputStream out = upstreamApp.getOutputStream();
        out.write(message, 0, 5);
        out.flush();
        // The relay holds the first five bytes in a buffer of its own while it waits for the rest.
        awaitOnLoop(() -> loop.buffers().outstanding() == 1, "the partial message held");
        out.write(message, 5, message.length - 5);
        out.flush();
        assertThat(readN(clientApp, 13)).isEqualTo(ascii("split message"));
        clientApp.close();
        upstreamApp.close();
        assertThat(result.get(5, TimeUnit.SECONDS).bytesDown()).isEqualTo(12 + 13);
    }

    @Test
    void aCorruptMessageResetsBothSidesAndTheEndNamesTheHop() throws Exception {
        relay(Relay.ProtectedSide.UPSTREAM, Socks5GssapiProtection.INTEGRITY, null, null, null);
        byte[] message = drain(peer.protect(ByteBuffer.wrap(ascii("tampered"))));
        message[8] ^= 1;
        upstreamApp.getOutputStream().write(message);
        Relay.Result ended = result.get(5, TimeUnit.SECONDS);
        assertThat(ended.ending()).isEqualTo(Relay.Ending.FAILED);
        assertThat(ended.detail()).isEqualTo("corrupt protected message from " + PEER + " (gssapi-integrity):"
                + " SOCKS5 GSS-API encapsulated message: GSS-API unwrap failed: Checksum failed");
        assertThatThrownBy(() -> clientApp.getInputStream().read()).as("the client is reset, not shown an end")
                .isInstanceOf(java.net.SocketException.class);
        assertThat(loop.buffers().outstanding()).isZero();
    }

    @Test
    void anEndInTheMiddleOfAMessageIsACutNotAnEnd() throws Exception {
        relay(Relay.ProtectedSide.UPSTREAM, Socks5GssapiProtection.INTEGRITY, null, null, null);
        byte[] whole = drain(peer.protect(ByteBuffer.wrap(ascii("whole"))));
        byte[] cut = drain(peer.protect(ByteBuffer.wrap(ascii("cut short"))));
        upstreamApp.getOutputStream().write(whole);
        upstreamApp.getOutputStream().write(cut, 0, 6);
        upstreamApp.shutdownOutput();
        Relay.Result ended = result.get(5, TimeUnit.SECONDS);
        assertThat(ended.ending()).isEqualTo(Relay.Ending.FAILED);
        assertThat(ended.detail()).isEqualTo(PEER + " (gssapi-integrity) closed the connection in the middle of a"
                + " protected message (6 bytes of it arrived)");
        assertThat(ended.bytesDown()).isEqualTo(5);
    }

    @Test
    void buffersTooSmallForAWholeMessageAreRefused() {
        loop = new EventLoop("test-loop", new BufferPool(RelayMode.COPY, 16 * 1024, 4));
        ScriptedGssapi[] contexts = ScriptedGssapi.establishedPair(0x07);
        assertThatThrownBy(() -> Relay.startProtected(loop, SocketChannel.open(), SocketChannel.open(),
                new Relay.Protection(new Socks5GssapiStreamProtection(contexts[0], Socks5GssapiProtection.INTEGRITY),
                        Relay.ProtectedSide.UPSTREAM, PEER, ByteBuffer.allocate(0)), null, null, Duration.ZERO,
                r -> { })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("65539");
    }

    // --- the protecting peer ---

    private byte[] unprotectAll(Socket socket, ByteArrayOutputStream wireSeen) {
        try {
            InputStream in = socket.getInputStream();
            ByteBuffer wire = ByteBuffer.allocate(1 << 18);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            byte[] chunk = new byte[64 * 1024];
            int n;
            while ((n = in.read(chunk)) >= 0) {
                wireSeen.write(chunk, 0, Math.min(n, Math.max(0, (1 << 20) - wireSeen.size())));
                wire.put(chunk, 0, n).flip();
                while (peer.unprotect(wire) instanceof Decoded.Message<ByteBuffer> m) {
                    plain.writeBytes(drain(m.message()));
                }
                wire.compact();
            }
            assertThat(wire.position()).as("nothing left half a message").isZero();
            return plain.toByteArray();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private byte[] unprotectN(Socket socket, int count) throws IOException {
        InputStream in = socket.getInputStream();
        ByteBuffer wire = ByteBuffer.allocate(1 << 17);
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        while (plain.size() < count) {
            int b = in.read();
            assertThat(b).isNotNegative();
            wire.put((byte) b).flip();
            if (peer.unprotect(wire) instanceof Decoded.Message<ByteBuffer> m) {
                plain.writeBytes(drain(m.message()));
            }
            wire.compact();
        }
        return plain.toByteArray();
    }

    private byte[] sendProtected(Socket socket, long seed, int size) {
        try {
            byte[] data = randomBytes(seed, size);
            OutputStream out = socket.getOutputStream();
            ByteBuffer plaintext = ByteBuffer.wrap(data);
            while (plaintext.hasRemaining()) {
                out.write(drain(peer.protect(plaintext)));
            }
            socket.shutdownOutput();
            return sha(data);
        } catch (IOException | ProtectionException e) {
            throw new RuntimeException(e);
        }
    }

    // --- plain helpers ---

    private void awaitOnLoop(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            CompletableFuture<Boolean> answer = new CompletableFuture<>();
            loop.execute(() -> answer.complete(condition.getAsBoolean()));
            if (answer.get(5, TimeUnit.SECONDS)) {
                return;
            }
            assertThat(System.nanoTime()).as("waiting for: " + what).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] drain(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    private static byte[] readN(Socket socket, int count) throws IOException {
        return socket.getInputStream().readNBytes(count);
    }

    private static byte[] randomBytes(long seed, int size) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static byte[] sha(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] digestAll(Socket socket) {
        try {
            return sha(socket.getInputStream().readAllBytes());
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] sendRandom(Socket socket, long seed, int size) {
        try {
            byte[] data = randomBytes(seed, size);
            socket.getOutputStream().write(data);
            socket.shutdownOutput();
            return sha(data);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
