package dev.chainsocks.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** splice(2) through a pipe and the unbuffered copy, between real loopback sockets. */
class SpliceTest {

    private SocketChannel sender;
    private SocketChannel middleIn;
    private SocketChannel middleOut;
    private SocketChannel receiver;

    /** sender -> middleIn ... middleOut -> receiver: the test moves bytes from middleIn to middleOut. */
    @BeforeEach
    void connect() throws IOException {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocketChannel a = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0));
                ServerSocketChannel b = ServerSocketChannel.open()) {
            b.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            b.bind(new InetSocketAddress(lo, 0));
            sender = SocketChannel.open(a.getLocalAddress());
            middleIn = a.accept();
            middleOut = SocketChannel.open();
            middleOut.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
            middleOut.connect(b.getLocalAddress());
            receiver = b.accept();
        }
        middleIn.configureBlocking(false);
        middleOut.configureBlocking(false);
    }

    @AfterEach
    void close() throws IOException {
        for (SocketChannel channel : new SocketChannel[] {sender, middleIn, middleOut, receiver}) {
            if (channel != null) {
                channel.close();
            }
        }
    }

    private static ByteBuffer ascii(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
    }

    private String receive(int length) throws IOException {
        ByteBuffer into = ByteBuffer.allocate(length);
        while (into.hasRemaining()) {
            if (receiver.read(into) < 0) {
                break;
            }
        }
        return new String(into.array(), 0, into.position(), StandardCharsets.US_ASCII);
    }

    @Test
    void bytesGoSocketToPipeToSocketAndTheEndOfTheStreamReadsAsZero() throws IOException {
        try (Pipe pipe = Pipe.open(Pipe.DEFAULT_CAPACITY)) {
            assertThat(pipe.capacity()).isEqualTo(Pipe.DEFAULT_CAPACITY);
            assertThat(Splice.fromSocket(middleIn, pipe, pipe.capacity())).isEqualTo(Splice.WOULD_BLOCK);
            sender.write(ascii("through the kernel"));
            long in;
            do {
                in = Splice.fromSocket(middleIn, pipe, pipe.capacity());
            } while (in == Splice.WOULD_BLOCK);
            assertThat(in).isEqualTo(18);
            assertThat(Splice.toSocket(pipe, middleOut, (int) in)).isEqualTo(18);
            assertThat(receive(18)).isEqualTo("through the kernel");
            sender.shutdownOutput();
            long end;
            do {
                end = Splice.fromSocket(middleIn, pipe, pipe.capacity());
            } while (end == Splice.WOULD_BLOCK);
            assertThat(end).isZero();
        }
    }

    @Test
    void aPipeCanBeResized() throws IOException {
        try (Pipe pipe = Pipe.open(256 * 1024)) {
            assertThat(pipe.capacity()).isEqualTo(256 * 1024);
        }
    }

    @Test
    void aResetSourceIsAnErrnoExceptionAndAClosedPipeIsRefused() throws IOException {
        Pipe pipe = Pipe.open(Pipe.DEFAULT_CAPACITY);
        sender.setOption(StandardSocketOptions.SO_LINGER, 0);
        sender.write(ascii("x"));
        sender.close();
        IOException failure = null;
        for (int i = 0; i < 1000 && failure == null; i++) {
            try {
                long n = Splice.fromSocket(middleIn, pipe, pipe.capacity());
                assertThat(n).isIn(Splice.WOULD_BLOCK, 1L);
            } catch (IOException e) {
                failure = e;
            }
        }
        assertThat(failure).isInstanceOf(ErrnoException.class).hasMessageContaining("ECONNRESET");
        assertThat(Splice.unsupported(failure)).isFalse();
        pipe.close();
        assertThatThrownBy(() -> Splice.fromSocket(middleIn, pipe, 1))
                .isInstanceOf(java.nio.channels.ClosedChannelException.class);
    }

    @Test
    void unbufferedCopyLeavesWhatTheDestinationCannotTakeInTheSource() throws Exception {
        UnbufferedCopy copy = UnbufferedCopy.allocate(64 * 1024);
        assertThat(copy.move(middleIn, middleOut)).isEqualTo(UnbufferedCopy.WOULD_BLOCK);
        byte[] big = new byte[4 * 1024 * 1024];
        ByteBuffer toSend = ByteBuffer.wrap(big);
        sender.configureBlocking(false);
        long moved = 0;
        boolean destinationFull = false;
        // The receiver does not read: the destination fills, and the rest stays queued in middleIn.
        for (int i = 0; i < 10_000 && !destinationFull; i++) {
            sender.write(toSend);
            long n = copy.move(middleIn, middleOut);
            if (n >= 0) {
                moved += n;
                destinationFull = n < copy.offered();
            }
        }
        assertThat(destinationFull).isTrue();
        // Now drain everything and check the count: every byte sent arrives exactly once.
        long received = 0;
        ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
        receiver.configureBlocking(false);
        long deadline = System.nanoTime() + 20_000_000_000L;
        boolean senderDone = false;
        while (System.nanoTime() < deadline) {
            if (toSend.hasRemaining()) {
                sender.write(toSend);
            } else if (!senderDone) {
                sender.shutdownOutput();
                senderDone = true;
            }
            long n = copy.move(middleIn, middleOut);
            if (n == UnbufferedCopy.END_OF_STREAM) {
                middleOut.shutdownOutput();
            } else if (n > 0) {
                moved += n;
            }
            sink.clear();
            int r = receiver.read(sink);
            if (r < 0) {
                break;
            }
            received += r;
        }
        assertThat(moved).isEqualTo(big.length);
        assertThat(received).isEqualTo(big.length);
    }
}
