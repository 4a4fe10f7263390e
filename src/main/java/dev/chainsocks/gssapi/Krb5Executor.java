package dev.chainsocks.gssapi;

import dev.chainsocks.proto.BlockingStep;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The small pool GSS-API steps run on, apart from the event loops and from name resolution, so a slow KDC holds up
 * neither: two daemon threads, at most {@link #QUEUE} steps waiting; more are refused (the handshake then fails).
 */
public final class Krb5Executor {

    static final int THREADS = 2;
    static final int QUEUE = 256;

    private static Krb5Executor shared;

    private final ThreadPoolExecutor pool;

    /** The process's pool, made on first use; its threads end when idle. */
    public static synchronized Krb5Executor shared() {
        if (shared == null) {
            shared = new Krb5Executor("gssapi");
        }
        return shared;
    }

    public Krb5Executor(String name) {
        AtomicInteger count = new AtomicInteger();
        pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread thread = new Thread(r, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    /**
     * Runs {@code step} on the pool, then {@code resume} on {@code loop} (the step completed there first).
     *
     * @throws RejectedExecutionException when too many steps are waiting
     */
    public void run(BlockingStep<?> step, Executor loop, Runnable resume) {
        pool.execute(() -> {
            step.run();
            loop.execute(() -> {
                step.complete();
                resume.run();
            });
        });
    }

    public void shutdown() {
        pool.shutdownNow();
    }
}
