package dev.chainsocks.fuzz;

import java.util.Arrays;

/**
 * One fuzz input, read from both ends: choices (which variant of a target, how many reads) are taken one byte at a
 * time from the end, and the bytes left at the front are the message. A seed is therefore a message followed by
 * its choice bytes in reverse order of reading; {@code docs/testing.md} lists each target's layout.
 *
 * <p>This is the same idea as Jazzer's {@code FuzzedDataProvider}, kept to a few lines so that seed files are plain
 * wire messages with a short trailer, and so that one target's input can be handed to another unchanged.
 */
public final class FuzzInput {

    private final byte[] data;
    private int end;

    private FuzzInput(byte[] data) {
        this.data = data;
        this.end = data.length;
    }

    public static FuzzInput of(byte[] data) {
        return new FuzzInput(data);
    }

    /** The last unread byte modulo {@code options}, so 0..options-1; 0 once the input is used up. */
    public int choose(int options) {
        if (options < 1 || options > 256) {
            throw new IllegalArgumentException("1..256 options, got " + options);
        }
        return end == 0 ? 0 : (data[--end] & 0xff) % options;
    }

    public boolean flag() {
        return choose(2) == 1;
    }

    /** Two bytes from the end, in file order the low byte then the high byte; 0 once the input is used up. */
    public int u16() {
        return choose(256) << 8 | choose(256);
    }

    /** Everything not read yet, from the front. */
    public byte[] rest() {
        byte[] rest = Arrays.copyOf(data, end);
        end = 0;
        return rest;
    }

    /**
     * The rest as a message cut into reads: the last byte gives the number of cuts (0..3), then two bytes per cut
     * position (taken modulo the message length + 1). A message with one trailing 00 byte arrives in one read.
     */
    public Reads reads() {
        int count = choose(4);
        int[] positions = new int[count];
        for (int i = 0; i < count; i++) {
            positions[i] = u16();
        }
        return Reads.of(rest(), positions);
    }
}
