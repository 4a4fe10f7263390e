package dev.chainsocks.engine;

import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.log.Logging;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Child JVM for {@link RelayMemoryBudgetTest}, run under a small {@code -XX:MaxDirectMemorySize}: many relays whose
 * client never reads (stalled downloads) take the whole in-flight budget of the one event loop, then fresh relays
 * must still carry checksummed streams both ways, and at the end every stalled download must arrive complete.
 *
 * <p>Arguments: relay mode ({@code SPLICE} or {@code COPY}), number of stalled relays, number of fresh ones.
 * Prints {@code ok ...} and exits 0, or prints what went wrong and exits 1. Every wait has a deadline.
 */
final class StalledReaders {
    private static final int STALLED_BYTES = 256 * 1024;
    private static final int FRESH_BYTES = 256 * 1024;
    private static final int SOCKET_BUFFER = 8 * 1024;
    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(60);

    private static final java.util.concurrent.atomic.AtomicInteger ENDED = new java.util.concurrent.atomic.AtomicInteger();

    private StalledReaders() {
    }

    /** The four sockets of one relay as the applications at either end see them. */
    private record Ends(SocketChannel clientApp, SocketChannel upstreamApp) {
    }

    public static void main(String[] args) throws Exception {
        Logging.configure("warn", false);
        RelayMode mode = RelayMode.valueOf(args[0]);
        int stalledCount = Integer.parseInt(args[1]);
        int freshCount = Integer.parseInt(args[2]);
        LinuxSockets.get().raiseNoFileLimit();
        long start = System.nanoTime();
        try (EventLoopGroup group = new EventLoopGroup("child", 1, mode, BufferPool.DEFAULT_MEMORY)) {
            EventLoop loop = group.loops().get(0);
            InetAddress lo = InetAddress.getLoopbackAddress();
            try (ServerSocketChannel front = ServerSocketChannel.open();
                    ServerSocketChannel back = ServerSocketChannel.open()) {
                front.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
                back.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
                front.bind(new InetSocketAddress(lo, 0), 1024);
                back.bind(new InetSocketAddress(lo, 0), 1024);

                List<Ends> stalled = new ArrayList<>();
                for (int i = 0; i < stalledCount; i++) {
                    stalled.add(relay(loop, front, back, true));
                }
                Thread writer = new Thread(() -> writeAll(stalled), "stalled-writer");
                writer.start();
                int slots = onLoop(loop, () -> loop.buffers().slots());
                await(() -> onLoop(loop, () -> loop.buffers().outstanding()) >= slots,
                        "the stalled relays to take the whole budget of " + slots, start);

                List<CompletableFuture<Void>> fresh = new ArrayList<>();
                for (int i = 0; i < freshCount; i++) {
                    Ends ends = relay(loop, front, back, false);
                    fresh.add(CompletableFuture.runAsync(() -> exchange(ends, FRESH_BYTES)));
                }
                for (CompletableFuture<Void> one : fresh) {
                    one.get(30, TimeUnit.SECONDS);
                }
                BufferPool.Stats during = onLoop(loop, () -> loop.buffers().stats());
                long outstanding = onLoop(loop, () -> loop.buffers().outstanding());
                check(outstanding <= slots, "more carriers out than the budget: " + outstanding + " > " + slots);
                check(during.unbufferedBytes() > 0, "nothing moved unbuffered while the budget was spent");

                long[] received = drainAll(stalled, start);
                writer.join(TimeUnit.NANOSECONDS.toMillis(DEADLINE_NANOS));
                for (int i = 0; i < received.length; i++) {
                    check(received[i] == STALLED_BYTES, "stalled relay " + i + " delivered " + received[i]
                            + " of " + STALLED_BYTES + " bytes");
                }
                for (Ends ends : stalled) {
                    ends.clientApp().close();
                    ends.upstreamApp().close();
                }
                await(() -> ENDED.get() == stalledCount + freshCount, "every relay to end", start);
                check(onLoop(loop, () -> loop.buffers().outstanding()) == 0, "carriers still out after the end");
                System.out.println("ok mode=" + loop.buffers().mode() + " stalled=" + stalledCount + " fresh="
                        + freshCount + " slots=" + slots + " " + during);
            }
        } catch (Throwable t) {
            System.out.println("failed: " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        }
        System.exit(0);
    }

    private static void check(boolean condition, String problem) {
        if (!condition) {
            throw new AssertionError(problem);
        }
    }

    private static <T> T onLoop(EventLoop loop, java.util.function.Supplier<T> query) throws Exception {
        CompletableFuture<T> answer = new CompletableFuture<>();
        loop.execute(() -> answer.complete(query.get()));
        return answer.get(10, TimeUnit.SECONDS);
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(Condition condition, String what, long start) throws Exception {
        while (!condition.holds()) {
            check(System.nanoTime() - start < DEADLINE_NANOS, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    /** client app -> [front accepted | relay | connected to back] -> upstream app, started on the loop. */
    private static Ends relay(EventLoop loop, ServerSocketChannel front, ServerSocketChannel back, boolean small)
            throws IOException {
        SocketChannel clientApp = SocketChannel.open();
        if (small) {
            clientApp.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
        }
        clientApp.connect(front.getLocalAddress());
        SocketChannel relayClientSide = front.accept();
        SocketChannel relayUpstreamSide = SocketChannel.open();
        if (small) {
            relayClientSide.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
            relayUpstreamSide.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
        }
        relayUpstreamSide.connect(back.getLocalAddress());
        SocketChannel upstreamApp = back.accept();
        if (small) {
            upstreamApp.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
        }
        relayClientSide.configureBlocking(false);
        relayUpstreamSide.configureBlocking(false);
        loop.execute(() -> Relay.start(loop, relayClientSide, relayUpstreamSide, null, null, Duration.ofMinutes(5),
                result -> {
                    if (!result.clean()) {
                        System.out.println("relay ended badly: " + result);
                    }
                    ENDED.incrementAndGet();
                }));
        return new Ends(clientApp, upstreamApp);
    }

    /** Sends STALLED_BYTES down every stalled relay, non-blocking, as far as each will take, then EOF. */
    private static void writeAll(List<Ends> stalled) {
        long start = System.nanoTime();
        try {
            long[] written = new long[stalled.size()];
            ByteBuffer zeros = ByteBuffer.allocate(64 * 1024);
            for (Ends ends : stalled) {
                ends.upstreamApp().configureBlocking(false);
            }
            int left = stalled.size();
            while (left > 0 && System.nanoTime() - start < DEADLINE_NANOS) {
                boolean progress = false;
                for (int i = 0; i < written.length; i++) {
                    if (written[i] == STALLED_BYTES) {
                        continue;
                    }
                    zeros.clear().limit((int) Math.min(zeros.capacity(), STALLED_BYTES - written[i]));
                    int n = stalled.get(i).upstreamApp().write(zeros);
                    written[i] += n;
                    progress |= n > 0;
                    if (written[i] == STALLED_BYTES) {
                        stalled.get(i).upstreamApp().shutdownOutput();
                        left--;
                    }
                }
                if (!progress) {
                    Thread.sleep(2);
                }
            }
        } catch (Exception e) {
            System.out.println("writer failed: " + e);
        }
    }

    /** Reads every stalled download to its end; the byte counts, in order. */
    private static long[] drainAll(List<Ends> stalled, long start) throws Exception {
        long[] received = new long[stalled.size()];
        boolean[] ended = new boolean[stalled.size()];
        ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
        for (Ends ends : stalled) {
            ends.clientApp().configureBlocking(false);
        }
        int left = stalled.size();
        while (left > 0) {
            check(System.nanoTime() - start < DEADLINE_NANOS, left + " stalled downloads did not end");
            boolean progress = false;
            for (int i = 0; i < received.length; i++) {
                if (ended[i]) {
                    continue;
                }
                sink.clear();
                int n = stalled.get(i).clientApp().read(sink);
                if (n < 0) {
                    ended[i] = true;
                    left--;
                } else {
                    received[i] += n;
                    progress |= n > 0;
                }
            }
            if (!progress) {
                Thread.sleep(2);
            }
        }
        return received;
    }

    /** Random bytes both ways at once through a fresh relay; both digests must match. */
    private static void exchange(Ends ends, int size) {
        try (Socket client = ends.clientApp().socket(); Socket upstream = ends.upstreamApp().socket()) {
            CompletableFuture<byte[]> up = CompletableFuture.supplyAsync(() -> send(client, 1, size));
            CompletableFuture<byte[]> down = CompletableFuture.supplyAsync(() -> send(upstream, 2, size));
            byte[] atUpstream = digest(upstream);
            byte[] atClient = digest(client);
            check(Arrays.equals(atUpstream, up.get(30, TimeUnit.SECONDS)), "upload corrupted");
            check(Arrays.equals(atClient, down.get(30, TimeUnit.SECONDS)), "download corrupted");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] send(Socket socket, long seed, int size) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] bytes = new byte[size];
            new Random(seed).nextBytes(bytes);
            sha.update(bytes);
            OutputStream out = socket.getOutputStream();
            out.write(bytes);
            socket.shutdownOutput();
            return sha.digest();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] digest(Socket socket) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            sha.update(buffer, 0, n);
        }
        return sha.digest();
    }
}
