package dev.chainsocks.linux;

import dev.chainsocks.linux.NativeAccess.LibC;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * Copies from one socket to another while keeping nothing: it peeks at the source's receive queue
 * ({@code recv(MSG_PEEK)}) into one scratch area, sends what the destination takes, and only then removes that
 * many bytes from the source ({@code recv(MSG_TRUNC)}, which discards without copying). Bytes the destination does
 * not take stay in the source socket, so a stalled reader costs the kernel's socket buffers and no memory here.
 *
 * <p>One instance serves every connection of one thread (the scratch area is reused); not thread-safe.
 */
public final class UnbufferedCopy {
    /** The source has nothing to read now. */
    public static final long WOULD_BLOCK = Splice.WOULD_BLOCK;
    /** The source reached the end of its stream. */
    public static final long END_OF_STREAM = -2;

    private static final String FEATURE = "copying with MSG_PEEK needs Linux";

    private final Pointer scratch;
    private final int size;
    private long offered;

    private UnbufferedCopy(Pointer scratch, int size) {
        this.scratch = scratch;
        this.size = size;
    }

    /** A copier with a native scratch area of {@code size} bytes (the most one call moves). */
    public static UnbufferedCopy allocate(int size) {
        NativeAccess.libc(FEATURE);
        return new UnbufferedCopy(Memory.allocateDirect(NativeAccess.runtime(), size), size);
    }

    /**
     * Moves what the destination takes now, up to the scratch size.
     *
     * @return bytes moved (0 when the destination took none: see {@link #offered()}), {@link #WOULD_BLOCK} or
     *         {@link #END_OF_STREAM}
     * @throws ErrnoException for a reset or closed connection on either side, and other failures
     */
    public long move(SocketChannel from, SocketChannel to) throws IOException {
        LibC libc = NativeAccess.libc(FEATURE);
        int in = ChannelDescriptor.of(from);
        int out = ChannelDescriptor.of(to);
        offered = 0;
        long peeked = call(libc, in, size, LibC.MSG_PEEK | LibC.MSG_DONTWAIT, true, "recv(MSG_PEEK)");
        if (peeked == WOULD_BLOCK) {
            return WOULD_BLOCK;
        }
        if (peeked == 0) {
            return END_OF_STREAM;
        }
        offered = peeked;
        long sent = call(libc, out, peeked, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL, false, "send");
        if (sent <= 0) {
            return 0;
        }
        long dropped = call(libc, in, sent, LibC.MSG_TRUNC | LibC.MSG_DONTWAIT, true, "recv(MSG_TRUNC)");
        if (dropped != sent) {
            throw new IOException("recv(MSG_TRUNC) removed " + dropped + " of the " + sent
                    + " bytes just sent from the socket's queue");
        }
        return sent;
    }

    /** How many bytes the last {@link #move} found waiting in the source (and offered to the destination). */
    public long offered() {
        return offered;
    }

    private long call(LibC libc, int fd, long length, int flags, boolean receive, String name) throws IOException {
        while (true) {
            long n = receive ? libc.recv(fd, scratch, length, flags) : libc.send(fd, scratch, length, flags);
            if (n >= 0) {
                return n;
            }
            int errno = NativeAccess.runtime().getLastError();
            if (errno == LibC.EAGAIN) {
                return WOULD_BLOCK;
            }
            if (errno != LibC.EINTR) {
                throw NativeAccess.error(name, errno, null);
            }
        }
    }
}
