package dev.chainsocks.linux;

import dev.chainsocks.linux.NativeAccess.LibC;
import java.io.IOException;

/**
 * A kernel pipe for {@link Splice}: two non-blocking, close-on-exec descriptors that this object owns. A pipe
 * holds bytes in kernel pages, up to its {@link #capacity()}, without copying them into the JVM.
 */
public final class Pipe implements AutoCloseable {
    /** What Linux gives a new pipe: 16 pages. */
    public static final int DEFAULT_CAPACITY = 64 * 1024;

    final int readFd;
    final int writeFd;
    private final int capacity;
    private boolean closed;

    private Pipe(int readFd, int writeFd, int capacity) {
        this.readFd = readFd;
        this.writeFd = writeFd;
        this.capacity = capacity;
    }

    /**
     * Opens a pipe ({@code pipe2(O_NONBLOCK | O_CLOEXEC)}) and, when {@code capacity} is not the default, resizes it
     * with {@code fcntl(F_SETPIPE_SZ)} (the kernel rounds up to a power of two pages; past
     * {@code /proc/sys/fs/pipe-max-size} or the per-user page limit the pipe keeps the size it has).
     *
     * @throws ErrnoException when the kernel refuses a pipe, {@code EMFILE} at the open-files limit among others
     * @throws UnsupportedOperationException when libc is not available
     */
    public static Pipe open(int capacity) throws IOException {
        LibC libc = NativeAccess.libc("splice(2) pipes need Linux");
        int[] fds = new int[2];
        if (libc.pipe2(fds, LibC.O_NONBLOCK | LibC.O_CLOEXEC) != 0) {
            throw NativeAccess.lastError("pipe2", null);
        }
        int size = DEFAULT_CAPACITY;
        if (capacity != DEFAULT_CAPACITY) {
            int set = libc.fcntl(fds[1], LibC.F_SETPIPE_SZ, capacity);
            size = set > 0 ? set : libc.fcntl(fds[1], LibC.F_GETPIPE_SZ, 0);
            if (size <= 0) {
                ErrnoException error = NativeAccess.lastError("fcntl(F_GETPIPE_SZ)", null);
                libc.close(fds[0]);
                libc.close(fds[1]);
                throw error;
            }
        }
        return new Pipe(fds[0], fds[1], size);
    }

    /** How many bytes the pipe holds at most. */
    public int capacity() {
        return capacity;
    }

    /** Closes both ends; bytes still inside are dropped. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LibC libc = NativeAccess.libc("splice(2) pipes need Linux");
        libc.close(readFd);
        libc.close(writeFd);
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "pipe " + readFd + "<-" + writeFd + (closed ? " (closed)" : "");
    }
}
