package dev.chainsocks.engine;

/** A task scheduled on an {@link EventLoop}; cancel it from the loop thread. */
public final class Timer implements Comparable<Timer> {

    final long deadlineNanos;
    final Runnable task;
    private final long sequence;
    boolean cancelled;

    Timer(long deadlineNanos, long sequence, Runnable task) {
        this.deadlineNanos = deadlineNanos;
        this.sequence = sequence;
        this.task = task;
    }

    public void cancel() {
        cancelled = true;
    }

    @Override
    public int compareTo(Timer other) {
        int byTime = Long.compare(deadlineNanos - other.deadlineNanos, 0);
        return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
    }
}
