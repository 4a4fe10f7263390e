package dev.chainsocks.log;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Log lines on their way to standard error, written by one {@code log-writer} thread so that the threads that log
 * (the event loops above all) never wait for the output: they copy the line into a bounded buffer and go on. The
 * writer, once woken by a line, waits {@link #GATHER} for more and then writes everything buffered at once, so a
 * burst of lines costs one write system call and one wake-up, not one each per line.
 *
 * <p>Memory is bounded: when the reader of standard error (journald, a terminal, a pipe) falls behind by more than
 * the capacity, new lines are dropped and counted, and a line saying how many were dropped is written once the
 * buffer has room again. Nothing blocks and nothing grows with the backlog.
 */
final class LineSink {

    /** How long the writer waits after the first line of a batch for more to join it. */
    static final Duration GATHER = Duration.ofMillis(2);

    private final OutputStream out;
    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition pending = lock.newCondition();
    private final Condition drained = lock.newCondition();
    private byte[] buffer;
    private int length;
    private byte[] spare;
    private long dropped;
    /** Lines handed to the writer thread and not yet written. */
    private boolean writing;
    private volatile boolean closed;
    private final Thread thread;

    LineSink(OutputStream out, int capacity) {
        this.out = out;
        this.capacity = capacity;
        this.buffer = new byte[Math.min(capacity, 8192)];
        this.spare = new byte[0];
        this.thread = new Thread(this::run, "log-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Any thread: queues one line (with its line break), or counts it as dropped when the buffer is full. */
    void offer(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        lock.lock();
        try {
            if (closed || length + bytes.length > capacity) {
                dropped++;
                return;
            }
            if (length + bytes.length > buffer.length) {
                byte[] larger = new byte[Math.min(capacity, Math.max(buffer.length * 2, length + bytes.length))];
                System.arraycopy(buffer, 0, larger, 0, length);
                buffer = larger;
            }
            System.arraycopy(bytes, 0, buffer, length, bytes.length);
            length += bytes.length;
            pending.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Lines dropped so far because standard error did not keep up. */
    long dropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until everything offered so far is written, at most {@code timeout}; true if it was. */
    boolean drain(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (length > 0 || writing) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                drained.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Writes what is buffered (at most {@code timeout}) and stops taking lines. */
    void close(Duration timeout) {
        drain(timeout);
        lock.lock();
        try {
            closed = true;
            pending.signal();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        long reportedDrops = 0;
        while (true) {
            byte[] batch;
            int batchLength;
            long droppedNow;
            lock.lock();
            try {
                while (length == 0 && !closed) {
                    pending.awaitUninterruptibly();
                }
                if (length == 0) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            if (!closed) {
                // Let the lines of the next moment join this one's: one write for them all, and no wake-up of
                // this thread (a futex call by the thread that logs) for each line.
                LockSupport.parkNanos(GATHER.toNanos());
            }
            lock.lock();
            try {
                // Swap buffers: the threads that log fill the other one while this one is written.
                batch = buffer;
                batchLength = length;
                buffer = spare.length >= Math.min(capacity, 8192) ? spare : new byte[batch.length];
                spare = batch;
                length = 0;
                writing = true;
                droppedNow = dropped;
            } finally {
                lock.unlock();
            }
            try {
                out.write(batch, 0, batchLength);
                if (droppedNow > reportedDrops) {
                    out.write(("chainsocks: " + (droppedNow - reportedDrops) + " log line(s) dropped: standard error"
                            + " was not read fast enough\n").getBytes(StandardCharsets.UTF_8));
                    reportedDrops = droppedNow;
                }
                out.flush();
            } catch (IOException e) {
                // standard error is gone (closed pipe): nothing can be reported through it
            }
            lock.lock();
            try {
                writing = false;
                if (length == 0) {
                    drained.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** For tests: waits for the writer thread to end after {@link #close}. */
    boolean awaitStopped(Duration timeout) throws InterruptedException {
        thread.join(TimeUnit.NANOSECONDS.toMillis(timeout.toNanos()) + 1);
        return !thread.isAlive();
    }
}
