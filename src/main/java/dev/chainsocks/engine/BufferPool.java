package dev.chainsocks.engine;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Direct buffers for bytes in flight, owned by one event loop (no locking). A relay borrows a buffer only while
 * it holds bytes its peer has not taken yet, so an idle connection holds none. Handshakes, which read a few
 * bytes, use small heap buffers instead (see {@link Exchange}). At most {@code maxPooled} free
 * buffers are kept; more are left to the garbage collector.
 */
public final class BufferPool {

    public static final int DEFAULT_BUFFER_SIZE = 64 * 1024;

    private final int bufferSize;
    private final int maxPooled;
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private long outstanding;

    public BufferPool(int bufferSize, int maxPooled) {
        this.bufferSize = bufferSize;
        this.maxPooled = maxPooled;
    }

    /** An empty buffer in write mode. */
    public ByteBuffer take() {
        ByteBuffer buffer = free.pollFirst();
        outstanding++;
        return buffer != null ? buffer : ByteBuffer.allocateDirect(bufferSize);
    }

    /**
     * Gives a buffer back. Buffers that did not come from a pool of this size (small heap buffers that handshakes
     * use) are simply dropped, so callers may release whatever buffer they were handed.
     */
    public void release(ByteBuffer buffer) {
        if (!buffer.isDirect() || buffer.capacity() != bufferSize) {
            return;
        }
        outstanding--;
        if (free.size() < maxPooled) {
            buffer.clear();
            free.addFirst(buffer);
        }
    }

    /** Buffers taken and not yet released; for tests and status. */
    public long outstanding() {
        return outstanding;
    }

    public int bufferSize() {
        return bufferSize;
    }
}
