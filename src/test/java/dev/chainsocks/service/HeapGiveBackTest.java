package dev.chainsocks.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HeapGiveBackTest {

    private static final long MIB = 1L << 20;

    /** An old generation whose next collections leave the committed sizes queued in {@code afterCollections}. */
    private static final class ScriptedOldGeneration implements HeapGiveBack.OldGeneration {
        long committed = 4 * MIB;
        final Deque<Long> afterCollections = new ArrayDeque<>();
        int collections;

        @Override
        public long committed() {
            return committed;
        }

        @Override
        public long initial() {
            return 4 * MIB;
        }

        @Override
        public void collect() {
            collections++;
            if (!afterCollections.isEmpty()) {
                committed = afterCollections.poll();
            }
        }
    }

    private final ScriptedOldGeneration heap = new ScriptedOldGeneration();
    private int open;
    private final HeapGiveBack giveBack = new HeapGiveBack(heap, () -> open);

    @Test
    void aHeapNearItsInitialSizeIsLeftAlone() {
        open = 0;
        heap.committed = 4 * MIB + HeapGiveBack.MIN_EXCESS - 1;
        assertThat(giveBack.check()).isFalse();
        assertThat(heap.collections).isZero();
    }

    @Test
    void aGrownHeapIsLeftAloneWhileTheConnectionsAreStillOpen() {
        open = 5000;
        giveBack.check();
        heap.committed = 16 * MIB;
        assertThat(giveBack.check()).isFalse();
        open = 2600; // more than half of the peak
        assertThat(giveBack.check()).isFalse();
        assertThat(heap.collections).isZero();
    }

    @Test
    void onceTheBurstEndsItCollectsUntilTheHeapIsBackNearItsInitialSize() {
        open = 5000;
        giveBack.check();
        heap.committed = 16 * MIB;
        giveBack.check();
        open = 10;
        // The serial collector's damping: nothing in the first collection, then 10%, 40%, the rest.
        heap.afterCollections.addAll(List.of(16 * MIB, 15 * MIB, 10 * MIB, 6 * MIB));
        assertThat(giveBack.check()).isTrue();
        assertThat(giveBack.check()).isTrue();
        assertThat(giveBack.check()).isTrue();
        assertThat(giveBack.check()).isTrue();
        assertThat(heap.committed).isEqualTo(6 * MIB);
        assertThat(giveBack.check()).as("back within MIN_EXCESS of the initial size").isFalse();
        assertThat(heap.collections).isEqualTo(4);
    }

    @Test
    void collectionsThatGiveNothingBackStopUntilTheNextBurst() {
        open = 4000;
        giveBack.check();
        heap.committed = 16 * MIB; // the live data needs it, or explicit collections are disabled
        open = 100;
        for (int i = 0; i < HeapGiveBack.MAX_FRUITLESS; i++) {
            assertThat(giveBack.check()).isTrue();
        }
        assertThat(giveBack.check()).as("gave up: the peak is now the current count").isFalse();
        assertThat(heap.collections).isEqualTo(HeapGiveBack.MAX_FRUITLESS);

        open = 3000; // a new burst ...
        assertThat(giveBack.check()).isFalse();
        open = 50; // ... that ends
        assertThat(giveBack.check()).isTrue();
    }

    @Test
    void withTheUnitsCollectorTheOldGenerationShrinksBackOnceTheConnectionsClose() throws Exception {
        String output = runChild("-XX:+UseSerialGC", "-Xms8m", "-Xmx72m", "-Xmn4m", "-XX:MinHeapFreeRatio=10",
                "-XX:MaxHeapFreeRatio=30");
        assertThat(output).as("the check exists with the serial collector").isNotEqualTo("absent");
        String[] seen = output.split(" ");
        long initial = Long.parseLong(seen[0]);
        long grown = Long.parseLong(seen[1]);
        long after = Long.parseLong(seen[2]);
        int collections = Integer.parseInt(seen[3]);
        assertThat(grown).as("16 MiB live grew the old generation").isGreaterThan(initial + HeapGiveBack.MIN_EXCESS);
        assertThat(after).as("given back").isLessThan(initial + HeapGiveBack.MIN_EXCESS);
        assertThat(collections).isBetween(1, HeapGiveBack.MAX_FRUITLESS + 2);
    }

    @Test
    void withOtherCollectorsThereIsNoCheck() throws Exception {
        assertThat(runChild("-XX:+UseG1GC")).isEqualTo("absent");
    }

    private static String runChild(String... jvmFlags) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(List.of(jvmFlags));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), HeapGiveBackChild.class.getName()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child ended").isTrue();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(child.exitValue()).as(output).isZero();
        return output;
    }
}
