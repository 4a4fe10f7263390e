package dev.chainsocks.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A few event loops (one per core by default) plus a small pool for blocking work that must stay off the loops,
 * such as DNS resolution of names that clients ask for.
 */
public final class EventLoopGroup implements AutoCloseable {

    private final List<EventLoop> loops;
    private final AtomicInteger next = new AtomicInteger();
    private final ExecutorService blocking;

    public EventLoopGroup(String prefix, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1");
        }
        List<EventLoop> created = new ArrayList<>(threads);
        for (int i = 0; i < threads; i++) {
            created.add(new EventLoop(prefix + "-loop-" + i, new BufferPool(BufferPool.DEFAULT_BUFFER_SIZE, 16)));
        }
        this.loops = List.copyOf(created);
        AtomicInteger resolverCount = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000),
                runnable -> {
                    Thread thread = new Thread(runnable, prefix + "-resolver-" + resolverCount.getAndIncrement());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
        this.blocking = pool;
    }

    public static int defaultThreads() {
        return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 8));
    }

    /** The loop for the next connection, round robin. */
    public EventLoop next() {
        return loops.get(Math.floorMod(next.getAndIncrement(), loops.size()));
    }

    public List<EventLoop> loops() {
        return loops;
    }

    /** Where blocking work (name resolution) runs; results must be handed back with {@link EventLoop#execute}. */
    public ExecutorService blocking() {
        return blocking;
    }

    @Override
    public void close() {
        blocking.shutdownNow();
        for (EventLoop loop : loops) {
            loop.close();
        }
    }
}
