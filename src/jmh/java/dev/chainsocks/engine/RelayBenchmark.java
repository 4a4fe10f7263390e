package dev.chainsocks.engine;

import dev.chainsocks.log.Logging;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The relay's copy loop: one {@link Relay} on its own {@link EventLoop}, between two loopback connections, as the
 * redirector and the bundled server run it. Each operation sends {@link #BYTES_PER_OP} bytes into the client end
 * and reads them all from the upstream end, so ops/s times 8 MiB is the relay's one-way throughput. Parameters:
 * the relay mode and the chunk size (the loop's buffer or pipe capacity, {@link BufferPool#bufferSize()}).
 *
 * <p>The benchmark thread and the loop thread each take a core, so on a 2-core machine the figures also carry
 * whatever else runs there. The forked JVM gets the same {@code sun.nio.ch} export as the shipped jar: splicing
 * needs the sockets' file descriptors.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"})
@State(Scope.Thread)
public class RelayBenchmark {

    /** Bytes relayed per operation. */
    static final int BYTES_PER_OP = 8 << 20;
    /** Buffers plus pipes the loop's pool may lend at once: two directions need two at most. */
    private static final int SLOTS = 8;

    @Param({"COPY", "SPLICE"})
    public RelayMode mode;

    @Param({"16", "64", "128", "256"})
    public int chunkKiB;

    private EventLoop loop;
    private SocketChannel source;
    private SocketChannel sink;
    private Selector selector;
    private SelectionKey sourceKey;
    private final ByteBuffer outgoing = ByteBuffer.allocateDirect(1 << 20);
    private final ByteBuffer incoming = ByteBuffer.allocateDirect(1 << 20);
    private final CompletableFuture<Relay.Result> ended = new CompletableFuture<>();

    @Setup(Level.Trial)
    public void start() throws Exception {
        Logging.configure("warn", false);
        BufferPool pool = new BufferPool(mode, chunkKiB * 1024, SLOTS);
        if (pool.mode() != mode) {
            throw new IllegalStateException("relay mode " + mode + " is not available here: " + pool.mode());
        }
        loop = new EventLoop("bench-loop", pool);
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocketChannel front = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0));
                ServerSocketChannel back = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0))) {
            source = SocketChannel.open(front.getLocalAddress());
            SocketChannel relayClientSide = front.accept();
            SocketChannel relayUpstreamSide = SocketChannel.open(back.getLocalAddress());
            sink = back.accept();
            relayClientSide.configureBlocking(false);
            relayUpstreamSide.configureBlocking(false);
            loop.execute(() -> Relay.start(loop, relayClientSide, relayUpstreamSide, null, null,
                    Duration.ofHours(1), ended::complete));
        }
        source.configureBlocking(false);
        sink.configureBlocking(false);
        selector = Selector.open();
        sourceKey = source.register(selector, SelectionKey.OP_WRITE);
        sink.register(selector, SelectionKey.OP_READ);
        while (outgoing.hasRemaining()) {
            outgoing.put((byte) outgoing.position());
        }
    }

    /** Sends {@link #BYTES_PER_OP} into the relay and reads as many out; returns the bytes received. */
    @Benchmark
    public long relay() throws IOException {
        long sent = 0;
        long received = 0;
        while (received < BYTES_PER_OP) {
            boolean progressed = false;
            if (sent < BYTES_PER_OP) {
                outgoing.clear().limit((int) Math.min(outgoing.capacity(), BYTES_PER_OP - sent));
                int n = source.write(outgoing);
                sent += n;
                progressed = n > 0;
            }
            int n = sink.read(incoming.clear());
            if (n < 0) {
                throw new IOException("relay ended early: " + ended.getNow(null));
            }
            received += n;
            if (!progressed && n == 0) {
                sourceKey.interestOps(sent < BYTES_PER_OP ? SelectionKey.OP_WRITE : 0);
                selector.select(1000);
                selector.selectedKeys().clear();
            }
        }
        return received;
    }

    /** Half-closes both ends, as two finished peers would: the relay must then end cleanly. */
    @TearDown(Level.Trial)
    public void stop() throws Exception {
        try {
            source.shutdownOutput();
            sink.shutdownOutput();
            while (sink.read(incoming.clear()) >= 0) {
                selector.select(100);
                selector.selectedKeys().clear();
            }
            Relay.Result result = ended.get(10, TimeUnit.SECONDS);
            if (!result.clean()) {
                throw new IllegalStateException("relay did not end cleanly: " + result);
            }
        } finally {
            selector.close();
            source.close();
            sink.close();
            loop.close();
        }
    }
}
