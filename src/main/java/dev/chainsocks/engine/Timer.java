package dev.chainsocks.engine;

/**
 * A task scheduled on an {@link EventLoop}; cancel it from the loop thread. A cancelled timer lets go of its task
 * at once (a relay's idle timer would otherwise keep the ended relay, its channels and its session reachable for
 * the whole idle timeout), and the loop drops cancelled timers from its queue once they are the majority.
 */
public final class Timer implements Comparable<Timer> {

    final long deadlineNanos;
    private final long sequence;
    private final EventLoop loop;
    private Runnable task;
    boolean cancelled;

    Timer(long deadlineNanos, long sequence, Runnable task, EventLoop loop) {
        this.deadlineNanos = deadlineNanos;
        this.sequence = sequence;
        this.task = task;
        this.loop = loop;
    }

    public void cancel() {
        if (!cancelled) {
            cancelled = true;
            task = null;
            loop.timerCancelled();
        }
    }

    /** Runs the task unless the timer was cancelled; the loop calls it once, at the deadline. */
    void fire() {
        Runnable run = task;
        task = null;
        if (!cancelled && run != null) {
            run.run();
        }
    }

    @Override
    public int compareTo(Timer other) {
        int byTime = Long.compare(deadlineNanos - other.deadlineNanos, 0);
        return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
    }
}
