package dev.chainsocks.engine;

import dev.chainsocks.log.Logging;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A measurement, not a test: the event loop thread's own CPU time (user + system, from the JVM's thread CPU clock)
 * per GB relayed over loopback, for each relay mode and chunk size (buffer or pipe capacity), interleaved over
 * several rounds; medians are printed. The figures chose {@link BufferPool#DEFAULT_BUFFER_SIZE}; see
 * docs/benchmarks.md. Run with:
 *
 * <pre>
 * mvn -B -q -o test-compile &amp;&amp; java --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
 *     -cp "target/classes:target/test-classes:$(mvn -q -o dependency:build-classpath -Dmdep.outputFile=/dev/stdout)" \
 *     dev.chainsocks.engine.RelayChunkSizes [rounds] [MiB per run]
 * </pre>
 */
final class RelayChunkSizes {
    private static final int[] SIZES = {16 * 1024, 64 * 1024, 128 * 1024, 256 * 1024, 1024 * 1024};

    private RelayChunkSizes() {
    }

    public static void main(String[] args) throws Exception {
        Logging.configure("warn", false);
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        long bytes = (args.length > 1 ? Long.parseLong(args[1]) : 1024) << 20;
        Map<String, List<double[]>> results = new TreeMap<>();
        for (int round = 0; round < rounds + 1; round++) {
            for (RelayMode mode : RelayMode.values()) {
                for (int size : SIZES) {
                    double[] figures = run(mode, size, round == 0 ? bytes / 4 : bytes);
                    if (round > 0) { // the first round warms up the JIT
                        results.computeIfAbsent(String.format("%-6s %5d KiB", mode, size / 1024),
                                k -> new ArrayList<>()).add(figures);
                    }
                }
            }
        }
        System.out.println("mode   chunk      loop CPU ms/GB   MB/s   (medians of " + rounds + " rounds, "
                + (bytes >> 20) + " MiB each)");
        results.forEach((key, runs) -> System.out.printf("%s %10.0f %8.0f%n", key,
                median(runs, 0), median(runs, 1)));
    }

    private static double median(List<double[]> runs, int index) {
        double[] values = runs.stream().mapToDouble(r -> r[index]).sorted().toArray();
        return values[values.length / 2];
    }

    /** One relay, one stream of {@code bytes} one way; returns {loop CPU ms per GB, MB/s}. */
    private static double[] run(RelayMode mode, int chunk, long bytes) throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        EventLoop loop = new EventLoop("measure", new BufferPool(mode, chunk, 8));
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocketChannel front = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0));
                ServerSocketChannel back = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0))) {
            SocketChannel source = SocketChannel.open(front.getLocalAddress());
            SocketChannel relayIn = front.accept();
            SocketChannel relayOut = SocketChannel.open(back.getLocalAddress());
            SocketChannel sink = back.accept();
            relayIn.configureBlocking(false);
            relayOut.configureBlocking(false);
            CompletableFuture<Long> loopThread = new CompletableFuture<>();
            CompletableFuture<Relay.Result> ended = new CompletableFuture<>();
            loop.execute(() -> {
                loopThread.complete(Thread.currentThread().getId());
                Relay.start(loop, relayIn, relayOut, null, null, Duration.ofMinutes(1), ended::complete);
            });
            long tid = loopThread.get(5, TimeUnit.SECONDS);
            long cpuBefore = threads.getThreadCpuTime(tid);
            long start = System.nanoTime();
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
                try (source) {
                    ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
                    long left = bytes;
                    while (left > 0) {
                        zeros.clear().limit((int) Math.min(zeros.capacity(), left));
                        left -= source.write(zeros);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ByteBuffer into = ByteBuffer.allocateDirect(1 << 20);
            long received = 0;
            try (sink) {
                int n;
                while ((n = sink.read(into.clear())) >= 0) {
                    received += n;
                }
            }
            sending.get(60, TimeUnit.SECONDS);
            ended.get(10, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            long cpu = threads.getThreadCpuTime(tid) - cpuBefore;
            if (received != bytes) {
                throw new IllegalStateException("received " + received + " of " + bytes);
            }
            return new double[] {cpu / 1e6 / (bytes / 1e9), bytes / 1e6 / seconds};
        } finally {
            loop.close();
        }
    }
}
