package dev.chainsocks.fuzz;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Bytes a peer sends, and the points where the network cuts them into separate reads.
 *
 * @param message the bytes, in order
 * @param cuts    ascending positions inside {@code message} (0 &lt; cut &lt; length) where one read ends
 */
public record Reads(byte[] message, int[] cuts) {

    /** Cuts at {@code positions} modulo the message length + 1; duplicates and the two ends are dropped. */
    public static Reads of(byte[] message, int... positions) {
        int[] cuts = IntStream.of(positions)
                .map(p -> p % (message.length + 1))
                .filter(p -> p > 0 && p < message.length)
                .sorted()
                .distinct()
                .toArray();
        return new Reads(message, cuts);
    }

    /** The message as separate reads, in order; one read when there are no cuts. */
    public List<byte[]> chunks() {
        List<byte[]> chunks = new ArrayList<>(cuts.length + 1);
        int start = 0;
        for (int cut : cuts) {
            chunks.add(Arrays.copyOfRange(message, start, cut));
            start = cut;
        }
        chunks.add(Arrays.copyOfRange(message, start, message.length));
        return chunks;
    }

    /**
     * The message repeated until it is longer than {@code length}, same cuts: for limits the fuzzer's own inputs
     * (4 KiB by default) never reach. An empty message stays empty.
     */
    public Reads repeatedBeyond(int length) {
        if (message.length == 0) {
            return this;
        }
        byte[] longer = new byte[(length / message.length + 1) * message.length];
        for (int i = 0; i < longer.length; i += message.length) {
            System.arraycopy(message, 0, longer, i, message.length);
        }
        return new Reads(longer, cuts);
    }

    /**
     * Delivers the reads as a driver does: each read is appended to one buffer, {@code receiver} is called with
     * the buffer in read mode, then the buffer is compacted. Returns what was never consumed, in read mode.
     */
    public ByteBuffer feed(Consumer<ByteBuffer> receiver) {
        ByteBuffer buffer = ByteBuffer.allocate(message.length);
        for (byte[] chunk : chunks()) {
            buffer.put(chunk).flip();
            receiver.accept(buffer);
            buffer.compact();
        }
        return buffer.flip();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Reads that && Arrays.equals(message, that.message) && Arrays.equals(cuts, that.cuts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(message) + Arrays.hashCode(cuts);
    }

    @Override
    public String toString() {
        return message.length + " bytes in " + (cuts.length + 1) + " reads, cut at " + Arrays.toString(cuts);
    }
}
