package dev.chainsocks.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.tinylog.Logger;

/**
 * One selector thread. Everything about a connection (its keys, timers, buffers, state) is touched only on the
 * loop that owns it, so sessions need no locks. Other threads hand work in with {@link #execute(Runnable)}.
 */
public final class EventLoop implements Executor, AutoCloseable {

    /** Cancelled timers are dropped from the queue only when there are more than this many (and half the queue). */
    private static final int PURGE_AT = 256;
    /** The loop running on this thread, if any. */
    private static final ThreadLocal<EventLoop> CURRENT = new ThreadLocal<>();

    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    /** Cancelled timers still in {@link #timers}. */
    private int cancelledTimers;
    /**
     * Channels whose keys are cancelled, in the order they were cancelled: closed for real once a select has let go
     * of them (see {@link #closeAfterDeregistering}).
     */
    private final List<SelectableChannel> closing = new ArrayList<>();
    private final BufferPool buffers;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile long lastTurnNanos = System.nanoTime();
    private long timerSequence;
    private long now = System.nanoTime();
    /** Whether {@link #now} has been read for the current turn (by the first key it dispatches, or after). */
    private boolean turnStarted;

    public EventLoop(String name, BufferPool buffers) {
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector", e);
        }
        this.buffers = buffers;
        buffers.attach(this);
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(false);
        this.thread.start();
    }

    /** Runs a task on this loop; safe from any thread. From the loop thread itself the task runs on the next turn. */
    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (!inLoop() && wakeupPending.compareAndSet(false, true)) {
            selector.wakeup();
        }
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Loop thread only. */
    public SelectionKey register(SelectableChannel channel, int ops, IoHandler handler) throws ClosedChannelException {
        assert inLoop();
        return channel.register(selector, ops, handler);
    }

    /**
     * Closes {@code channel} at the start of the next turn, if it is registered with the loop running on this
     * thread; false (nothing done) otherwise. Its key is cancelled now, so it gets no more events.
     *
     * <p>Why: the JDK cannot close a channel a selector still holds. It closes it only once the selector has let go,
     * and meanwhile, to make the peer see the end at once, reads SO_LINGER and shuts the socket down for writing:
     * two system calls per socket, usually a failing shutdown of a connection that has already ended both ways.
     * Cancelling the key first and closing after the next (non-blocking) select costs neither, and the close itself
     * comes at most one turn of the loop later.
     */
    static boolean closeAfterDeregistering(SelectableChannel channel) {
        EventLoop loop = CURRENT.get();
        if (loop == null || channel.isBlocking()) {
            return false;
        }
        SelectionKey key = channel.keyFor(loop.selector);
        if (key == null) {
            return false;
        }
        if (key.isValid()) {
            key.cancel();
            loop.closing.add(channel);
        } else if (!loop.closing.contains(channel)) {
            loop.closing.add(channel); // its key was cancelled elsewhere; the next select lets go of it all the same
        }
        return true;
    }

    /** Loop thread only. */
    public Timer schedule(Duration delay, Runnable task) {
        assert inLoop();
        Timer timer = new Timer(System.nanoTime() + delay.toNanos(), timerSequence++, task, this);
        timers.add(timer);
        return timer;
    }

    /** Timers scheduled and not yet run or dropped, cancelled ones included; loop thread only (for tests). */
    int pendingTimers() {
        assert inLoop();
        return timers.size();
    }

    /**
     * A timer of this loop was cancelled. Cancelled timers normally leave the queue when their deadline comes
     * round; a relay's idle timer is cancelled long before (the idle timeout is minutes), so under a steady stream
     * of short connections they would pile up. Once they are more than half of the queue they are dropped at once.
     */
    void timerCancelled() {
        cancelledTimers++;
        if (cancelledTimers > PURGE_AT && cancelledTimers > timers.size() / 2) {
            timers.removeIf(timer -> timer.cancelled);
            cancelledTimers = 0;
        }
    }

    /** The time at the start of this loop turn: cheap, for activity stamps. */
    public long now() {
        return now;
    }

    public BufferPool buffers() {
        return buffers;
    }

    /** When this loop last went round; a watchdog compares it to the clock to spot a wedged loop. */
    public long lastTurnNanos() {
        return lastTurnNanos;
    }

    public String name() {
        return thread.getName();
    }

    private void run() {
        CURRENT.set(this);
        try {
            while (running) {
                long timeoutMillis = millisUntilNextTimer();
                // Keys cancelled before this select are let go by it; those cancelled while it dispatches, by the next.
                int deregistering = closing.size();
                turnStarted = false;
                // The ready keys go straight to dispatch(), not through the selected-key set, which would allocate
                // a set entry and an iterator per ready key.
                if (!tasks.isEmpty() || deregistering > 0) {
                    selector.selectNow(this::dispatch);
                } else if (timeoutMillis < 0) {
                    selector.select(this::dispatch);
                } else {
                    selector.select(this::dispatch, Math.max(1, timeoutMillis));
                }
                startTurn();
                wakeupPending.set(false);
                closeDeregistered(deregistering);
                runTasks();
                runTimers();
            }
        } catch (Throwable t) {
            FatalError.exit("event loop " + name() + " stopped by an unexpected error", t);
        } finally {
            closeDeregistered(closing.size());
            closeAllKeys();
            buffers.close();
            try {
                selector.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
            stopped.countDown();
        }
    }

    /** Reads the clock once per turn, before the first handler of the turn runs. */
    private void startTurn() {
        if (!turnStarted) {
            turnStarted = true;
            now = System.nanoTime();
            lastTurnNanos = now;
        }
    }

    /** Closes the first {@code count} channels of {@link #closing}: those whose keys the last select let go of. */
    private void closeDeregistered(int count) {
        if (count == 0) {
            return;
        }
        List<SelectableChannel> deregistered = closing.subList(0, count);
        for (SelectableChannel channel : deregistered) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the connection is over either way
            }
        }
        deregistered.clear();
    }

    /** One ready key, called by the selector for each key of a select. */
    private void dispatch(SelectionKey key) {
        startTurn();
        IoHandler handler = (IoHandler) key.attachment();
        try {
            if (key.isValid()) {
                handler.ready(key);
            }
        } catch (CancelledKeyException | IOException e) {
            handler.failed(e);
        } catch (RuntimeException e) {
            Logger.error(e, "handler {} failed on {}", handler, name());
            handler.failed(e);
        }
    }

    private void runTasks() {
        Runnable task;
        int budget = 4096;
        while (budget-- > 0 && (task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                Logger.error(e, "task failed on {}", name());
            }
        }
    }

    private void runTimers() {
        long nowNanos = System.nanoTime();
        Timer timer;
        while ((timer = timers.peek()) != null && timer.deadlineNanos - nowNanos <= 0) {
            timers.poll();
            if (timer.cancelled) {
                cancelledTimers--;
                continue;
            }
            try {
                timer.fire();
            } catch (RuntimeException e) {
                Logger.error(e, "timer failed on {}", name());
            }
        }
    }

    private long millisUntilNextTimer() {
        Timer timer;
        while ((timer = timers.peek()) != null && timer.cancelled) {
            timers.poll();
            cancelledTimers--;
        }
        if (timer == null) {
            return -1;
        }
        long nanos = timer.deadlineNanos - System.nanoTime();
        return nanos <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(nanos) + 1;
    }

    private void closeAllKeys() {
        for (SelectionKey key : selector.keys()) {
            Object attachment = key.attachment();
            if (attachment instanceof IoHandler handler) {
                handler.failed(new ClosedChannelException());
            }
            try {
                key.channel().close();
            } catch (IOException ignored) {
                // closing at shutdown
            }
        }
    }

    /** Stops the loop, closing every channel still registered, and waits for the thread to end. */
    @Override
    public void close() {
        running = false;
        selector.wakeup();
        if (!inLoop()) {
            try {
                stopped.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return name();
    }
}
