package dev.chainsocks.engine;

import java.util.concurrent.atomic.AtomicInteger;

/** A cap on concurrent connections, shared by every listener of a service. */
public final class ConnectionLimit {

    /** Descriptors kept for the process itself: the JVM's files, selectors, listeners, control socket, resolver. */
    public static final int RESERVED_DESCRIPTORS = 100;

    private volatile int max;
    private final AtomicInteger active = new AtomicInteger();

    public ConnectionLimit(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("connection limit must be at least 1, got " + max);
        }
        this.max = max;
    }

    /**
     * How many connections of {@code perConnection} descriptors each fit under an open files limit, after what the
     * process needs for itself ({@value #RESERVED_DESCRIPTORS} plus 2% of the limit): at least 1;
     * {@code Integer.MAX_VALUE} for an unlimited (negative) limit. With 20000 files and 2 per connection: 9750.
     */
    public static int fitting(long openFilesLimit, int perConnection) {
        if (openFilesLimit < 0) {
            return Integer.MAX_VALUE;
        }
        long usable = openFilesLimit - RESERVED_DESCRIPTORS - openFilesLimit / 50;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, usable / perConnection));
    }

    public boolean tryAcquire() {
        if (active.incrementAndGet() > max) {
            active.decrementAndGet();
            return false;
        }
        return true;
    }

    public void release() {
        active.decrementAndGet();
    }

    public int active() {
        return active.get();
    }

    public int max() {
        return max;
    }

    /** Changes the cap (on reload); connections above a lowered cap are not cut, new ones wait below it. */
    public void setMax(int newMax) {
        if (newMax < 1) {
            throw new IllegalArgumentException("connection limit must be at least 1, got " + newMax);
        }
        this.max = newMax;
    }

    @Override
    public String toString() {
        return active.get() + "/" + max;
    }
}
