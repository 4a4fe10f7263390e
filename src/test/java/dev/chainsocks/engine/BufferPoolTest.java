package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.linux.Pipe;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pool's budget and the order in which waiting directions get released buffers (on the calling thread). */
class BufferPoolTest {

    private final List<Runnable> loopTasks = new ArrayList<>();

    private BufferPool pool(RelayMode mode, int slots) {
        BufferPool pool = new BufferPool(mode, 4096, slots, false);
        pool.attach(loopTasks::add);
        return pool;
    }

    private void runLoopTasks() {
        List<Runnable> now = new ArrayList<>(loopTasks);
        loopTasks.clear();
        now.forEach(Runnable::run);
    }

    @Test
    void neverHandsOutMoreThanTheBudgetAndSaysNoInsteadOfThrowing() {
        BufferPool pool = pool(RelayMode.COPY, 3);
        List<ByteBuffer> taken = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            taken.add(pool.tryTake());
        }
        assertThat(taken).doesNotContainNull();
        assertThat(pool.tryTake()).isNull();
        assertThat(pool.tryTakePipe()).isNull();
        assertThat(pool.outstanding()).isEqualTo(3);
        assertThat(pool.stats().refusals()).isEqualTo(2);
        pool.release(taken.remove(0));
        assertThat(pool.tryTake()).isNotNull();
    }

    @Test
    void releasedBuffersGoToWaitingDirectionsInTheOrderTheyStartedWaiting() {
        BufferPool pool = pool(RelayMode.COPY, 1);
        ByteBuffer held = pool.tryTake();
        List<String> granted = new ArrayList<>();
        List<ByteBuffer> grants = new ArrayList<>();
        pool.await(buffer -> { granted.add("first"); grants.add(buffer); });
        pool.await(buffer -> { granted.add("second"); grants.add(buffer); });
        // A direction that did not wait does not jump the queue, even while a buffer is being handed over.
        pool.release(held);
        assertThat(pool.tryTake()).isNull();
        runLoopTasks();
        assertThat(granted).containsExactly("first");
        assertThat(pool.stats().waiting()).isEqualTo(1);
        pool.release(grants.get(0));
        runLoopTasks();
        assertThat(granted).containsExactly("first", "second");
        assertThat(pool.outstanding()).isEqualTo(1);
    }

    @Test
    void aCancelledWaiterGetsNothing() {
        BufferPool pool = pool(RelayMode.COPY, 1);
        ByteBuffer held = pool.tryTake();
        List<ByteBuffer> grants = new ArrayList<>();
        java.util.function.Consumer<ByteBuffer> waiter = grants::add;
        pool.await(waiter);
        pool.cancel(waiter);
        pool.release(held);
        runLoopTasks();
        assertThat(grants).isEmpty();
        assertThat(pool.outstanding()).isZero();
    }

    @Test
    void pipesShareTheBudgetAndOnlyEmptyOnesAreKept() {
        BufferPool pool = pool(RelayMode.SPLICE, 2);
        Pipe first = pool.tryTakePipe();
        Pipe second = pool.tryTakePipe();
        assertThat(first).isNotNull();
        assertThat(second).isNotNull();
        assertThat(pool.tryTakePipe()).isNull();
        assertThat(pool.tryTake()).isNull();
        pool.releasePipe(first, true);
        pool.releasePipe(second, false);
        assertThat(pool.tryTakePipe()).isSameAs(first);
        assertThat(pool.stats().pipesOpened()).isEqualTo(2);
        assertThat(pool.tryTakePipe()).isNotSameAs(second);
        pool.close();
    }

    @Test
    void budgetIsSplitOverTheLoopsWithAFloorOfTwo() {
        assertThat(BufferPool.slotsFor(32L << 20, 2, 64 * 1024)).isEqualTo(256);
        assertThat(BufferPool.slotsFor(64 * 1024, 4, 64 * 1024)).isEqualTo(2);
    }

    @Test
    void aGroupAppliesANewModeAndBudgetToEveryLoop() throws Exception {
        try (EventLoopGroup group = new EventLoopGroup("pool-test", 2, RelayMode.COPY, 4L << 20)) {
            EventLoop loop = group.loops().get(1);
            assertThat(onLoop(loop, () -> loop.buffers().mode())).isEqualTo(RelayMode.COPY);
            int perLoop = (int) ((4L << 20) / BufferPool.DEFAULT_BUFFER_SIZE / 2);
            assertThat(onLoop(loop, () -> loop.buffers().slots())).isEqualTo(perLoop);
            group.configureRelay(RelayMode.SPLICE, 8L << 20);
            assertThat(onLoop(loop, () -> loop.buffers().mode())).isEqualTo(RelayMode.SPLICE);
            assertThat(onLoop(loop, () -> loop.buffers().slots())).isEqualTo(2 * perLoop);
        }
    }

    private static <T> T onLoop(EventLoop loop, java.util.function.Supplier<T> query) throws Exception {
        java.util.concurrent.CompletableFuture<T> answer = new java.util.concurrent.CompletableFuture<>();
        loop.execute(() -> answer.complete(query.get()));
        return answer.get(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void theBudgetStaysWithinHalfTheDirectMemoryLimit() {
        assertThat(EventLoopGroup.relayMemoryWithin(32L << 20, 1L << 30)).isEqualTo(32L << 20);
        assertThat(EventLoopGroup.relayMemoryWithin(32L << 20, 16L << 20)).isEqualTo(8L << 20);
        assertThat(EventLoopGroup.parseJvmSize("64m")).isEqualTo(64L << 20);
        assertThat(EventLoopGroup.parseJvmSize("2G")).isEqualTo(2L << 30);
        assertThat(EventLoopGroup.parseJvmSize("65536")).isEqualTo(65536);
        assertThat(EventLoopGroup.parseJvmSize("lots")).isEqualTo(-1);
    }
}
