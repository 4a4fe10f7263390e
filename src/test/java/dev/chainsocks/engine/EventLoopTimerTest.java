package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Timers cancelled long before their deadline, as every relay's idle timer is (minutes) when its connection ends
 * after milliseconds: they must not keep their tasks, and what the tasks reach, alive until the deadline.
 */
class EventLoopTimerTest {

    private static final Duration FAR = Duration.ofMinutes(5);

    private EventLoop loop;

    @BeforeEach
    void startLoop() {
        loop = new EventLoop("timer-test-loop", new BufferPool(1024, 1));
    }

    @AfterEach
    void stopLoop() {
        loop.close();
    }

    private <T> T onLoop(Callable<T> work) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                result.complete(work.call());
            } catch (Exception | AssertionError e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    void cancelledTimersDoNotPileUpInTheQueue() throws Exception {
        int cancelled = 10_000;
        int pending = onLoop(() -> {
            for (int i = 0; i < cancelled; i++) {
                loop.schedule(FAR, () -> { }).cancel();
            }
            return loop.pendingTimers();
        });
        assertThat(pending).as("timers left in the queue after %d were scheduled and cancelled", cancelled)
                .isLessThanOrEqualTo(2 * 257);
    }

    @Test
    void aCancelledTimerLetsGoOfItsTask() throws Exception {
        List<WeakReference<Object>> reachable = onLoop(() -> {
            List<WeakReference<Object>> refs = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Object state = new byte[1 << 20];
                refs.add(new WeakReference<>(state));
                loop.schedule(FAR, () -> state.hashCode()).cancel();
            }
            return refs;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (reachable.stream().anyMatch(ref -> ref.get() != null) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(reachable).as("what the cancelled tasks referred to").allMatch(ref -> ref.get() == null);
    }

    @Test
    void timersThatAreNotCancelledStillRunInOrderAfterAPurge() throws Exception {
        AtomicInteger fired = new AtomicInteger();
        CompletableFuture<List<Integer>> order = new CompletableFuture<>();
        List<Integer> seen = new ArrayList<>();
        onLoop(() -> {
            for (int i = 0; i < 1000; i++) {
                loop.schedule(FAR, () -> { }).cancel();
            }
            for (int i = 0; i < 3; i++) {
                int n = i;
                loop.schedule(Duration.ofMillis(50L * (i + 1)), () -> {
                    seen.add(n);
                    if (fired.incrementAndGet() == 3) {
                        order.complete(List.copyOf(seen));
                    }
                });
            }
            return null;
        });
        assertThat(order.get(10, TimeUnit.SECONDS)).containsExactly(0, 1, 2);
    }
}
