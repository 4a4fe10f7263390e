package dev.chainsocks.engine;

import java.util.concurrent.atomic.AtomicInteger;

/** A cap on concurrent connections, shared by every listener of a service. */
public final class ConnectionLimit {

    private volatile int max;
    private final AtomicInteger active = new AtomicInteger();

    public ConnectionLimit(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("connection limit must be at least 1, got " + max);
        }
        this.max = max;
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
