package dev.chainsocks.linux;

import dev.chainsocks.linux.NativeAccess.LibC;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.Optional;

/**
 * Moves bytes between TCP sockets without copying them through the JVM: {@code splice(2)} from a socket into a
 * {@link Pipe} and from the pipe into another socket. Both calls are non-blocking; the sockets must be in
 * non-blocking mode (as selectable JDK channels are).
 *
 * <pre>{@code
 * long in = Splice.fromSocket(client, pipe, pipe.capacity());   // bytes now in the pipe, 0 at EOF
 * long out = Splice.toSocket(pipe, upstream, (int) in);          // bytes delivered, maybe fewer
 * }</pre>
 */
public final class Splice {
    /** The socket has nothing to read, or cannot take anything, right now. */
    public static final long WOULD_BLOCK = -1;

    private static final String FEATURE = "splice(2) needs Linux";
    private static final int FLAGS = LibC.SPLICE_F_MOVE | LibC.SPLICE_F_NONBLOCK;

    private Splice() {
    }

    /** Whether splicing can work here: Linux, libc bound, and socket descriptors readable. */
    public static boolean available() {
        return unavailableReason().isEmpty();
    }

    /** Why it cannot, when it cannot. */
    public static Optional<String> unavailableReason() {
        if (!NativeAccess.available()) {
            return Optional.of(NativeAccess.problem());
        }
        return ChannelDescriptor.problem();
    }

    /**
     * Moves up to {@code max} bytes from the socket's receive queue into the pipe.
     *
     * @return the bytes moved; 0 at the end of the stream (the peer shut down its output); {@link #WOULD_BLOCK}
     *         when nothing is there now (or the pipe is full)
     * @throws ErrnoException for a reset connection or any other failure, {@code EINVAL} where this socket type
     *                        cannot be spliced
     */
    public static long fromSocket(SocketChannel from, Pipe to, int max) throws IOException {
        return splice(ChannelDescriptor.of(from), open(to).writeFd, max, "splice(socket to pipe)");
    }

    /**
     * Moves up to {@code max} bytes from the pipe into the socket's send queue.
     *
     * @return the bytes moved, {@link #WOULD_BLOCK} when the socket cannot take any now
     * @throws ErrnoException for a reset or closed connection ({@code ECONNRESET}, {@code EPIPE}) and other failures
     */
    public static long toSocket(Pipe from, SocketChannel to, int max) throws IOException {
        return splice(open(from).readFd, ChannelDescriptor.of(to), max, "splice(pipe to socket)");
    }

    /**
     * Whether a failure of {@link #fromSocket} means splicing cannot work for this kind of socket here
     * ({@code EINVAL}, {@code ENOSYS}), as opposed to a failure of this connection.
     */
    public static boolean unsupported(IOException failure) {
        return failure instanceof ErrnoException errno
                && (errno.errno() == ErrnoException.EINVAL || errno.errno() == ErrnoException.ENOSYS);
    }

    private static Pipe open(Pipe pipe) throws ClosedChannelException {
        if (pipe.isClosed()) {
            throw new ClosedChannelException();
        }
        return pipe;
    }

    private static long splice(int in, int out, int max, String call) throws IOException {
        LibC libc = NativeAccess.libc(FEATURE);
        while (true) {
            long n = libc.splice(in, null, out, null, max, FLAGS);
            if (n >= 0) {
                return n;
            }
            int errno = NativeAccess.runtime().getLastError();
            if (errno == LibC.EAGAIN) {
                return WOULD_BLOCK;
            }
            if (errno != LibC.EINTR) {
                throw NativeAccess.error(call, errno, null);
            }
        }
    }
}
