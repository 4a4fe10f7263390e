package dev.chainsocks.service;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.time.Duration;
import java.util.Optional;
import java.util.function.IntSupplier;
import org.tinylog.Logger;

/**
 * Gives the Java heap back to the system once a burst of connections has ended.
 *
 * <p>Why: each idle relayed connection holds about 2.4 KiB of heap, so 5000 of them grow the old generation by some
 * 12 MiB. The serial collector (the unit's {@code -XX:+UseSerialGC}) shrinks the old generation only in a full
 * collection, and only by part of the excess in the first ones after it grew (none, then 10%, 40%, all of it); a
 * quiet gateway seldom has a full collection at all, so the memory stayed resident long after the connections had
 * gone. This check runs every {@link #INTERVAL} on the service timer: while the old generation holds more than
 * {@link #MIN_EXCESS} above its initial size and the open connections have fallen to half of their peak or less,
 * it asks for one full collection per check, until the old generation is back near its initial size or
 * {@link #MAX_FRUITLESS} collections in a row gave nothing back. A busy gateway (connections near their peak) is
 * left alone, and so is a JVM without the serial collector's {@code Tenured Gen} pool (other collectors have their
 * own means, such as G1's {@code G1PeriodicGCInterval}).
 */
final class HeapGiveBack implements Runnable {

    static final Duration INTERVAL = Duration.ofSeconds(15);
    /** Growth of the old generation below this is not worth a full collection. */
    static final long MIN_EXCESS = 4L << 20;
    /** The collector's damping gives nothing back in the first full collection after growth; allow for that. */
    static final int MAX_FRUITLESS = 4;

    /** The heap space that grows with the connections, and the one way to make it shrink. */
    interface OldGeneration {
        /** Bytes committed now. */
        long committed();

        /** Bytes committed at start ({@code -Xms}'s share). */
        long initial();

        /** One full collection; the collector shrinks the space as its free-ratio flags allow. */
        void collect();
    }

    private final OldGeneration oldGeneration;
    private final IntSupplier openConnections;
    /** The most connections open at once since the heap was last back near its initial size. */
    private int peak;
    private int fruitless;
    private int collections;
    private long committedBeforeCollections;

    HeapGiveBack(OldGeneration oldGeneration, IntSupplier openConnections) {
        this.oldGeneration = oldGeneration;
        this.openConnections = openConnections;
    }

    /** The check for this JVM, or empty when it does not run the serial collector. */
    static Optional<HeapGiveBack> forThisJvm(IntSupplier openConnections) {
        return ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(pool -> pool.getName().equals("Tenured Gen"))
                .findFirst()
                .map(pool -> new HeapGiveBack(tenured(pool), openConnections));
    }

    private static OldGeneration tenured(MemoryPoolMXBean pool) {
        long initial = pool.getUsage().getInit();
        return new OldGeneration() {
            @Override
            public long committed() {
                return pool.getUsage().getCommitted();
            }

            @Override
            public long initial() {
                return initial;
            }

            @Override
            public void collect() {
                System.gc();
            }
        };
    }

    @Override
    public void run() {
        try {
            check();
        } catch (RuntimeException e) {
            Logger.warn(e, "heap give-back check failed");
        }
    }

    /** One check; true when it asked for a full collection. */
    boolean check() {
        int open = openConnections.getAsInt();
        long committed = oldGeneration.committed();
        if (committed - oldGeneration.initial() < MIN_EXCESS) {
            finished(committed);
            peak = open;
            return false;
        }
        peak = Math.max(peak, open);
        if (open > peak / 2) {
            return false;
        }
        if (collections == 0) {
            committedBeforeCollections = committed;
        }
        oldGeneration.collect();
        collections++;
        long after = oldGeneration.committed();
        fruitless = after < committed ? 0 : fruitless + 1;
        if (fruitless >= MAX_FRUITLESS) {
            // Nothing more to give back (the live data needs it, or explicit collections are disabled): wait for
            // the next burst to end.
            finished(after);
            peak = open;
        }
        return true;
    }

    private void finished(long committed) {
        if (collections > 0) {
            Logger.debug("heap: old generation {} MiB -> {} MiB after {} full collection(s) once connections closed",
                    committedBeforeCollections >> 20, committed >> 20, collections);
        }
        collections = 0;
        fruitless = 0;
    }
}
