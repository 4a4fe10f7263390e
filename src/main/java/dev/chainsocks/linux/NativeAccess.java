package dev.chainsocks.linux;

import jnr.constants.platform.Errno;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The one place libc is loaded, and where errno becomes an {@link ErrnoException}.
 *
 * <p>Loading happens once, on first use. When it cannot work (not Linux, or JNR cannot bind libc) the reason is
 * kept and every feature that needs libc throws {@link UnsupportedOperationException} saying what is missing.
 */
final class NativeAccess {
    private NativeAccess() {
    }

    /**
     * The libc calls chainsocks makes, and nothing else. Public only so JNR's generated class, which lives in
     * another class loader, may implement it; the enclosing class keeps it inside this package.
     *
     * <p>The constants are the Linux values from {@code <netinet/in.h>}, {@code <linux/netfilter_ipv4.h>},
     * {@code <linux/netfilter_ipv6/ip6_tables.h>}, {@code <asm-generic/socket.h>}, {@code <sys/resource.h>},
     * {@code <signal.h>}, {@code <fcntl.h>}, {@code <sys/socket.h>}, {@code <sys/un.h>} and
     * {@code <asm-generic/errno.h>}.
     */
    public interface LibC {
        int AF_UNIX = 1;
        int AF_INET = 2;
        int AF_INET6 = 10;
        int SOCK_DGRAM = 2;
        int SOCK_CLOEXEC = 0x80000;

        int SOL_SOCKET = 1;
        int SOL_IP = 0;
        int SOL_IPV6 = 41;

        int SO_MARK = 36;
        int SO_DOMAIN = 39;
        int SO_ORIGINAL_DST = 80;
        int IP6T_SO_ORIGINAL_DST = 80;
        int IP_TRANSPARENT = 19;
        int IPV6_V6ONLY = 26;
        int IPV6_TRANSPARENT = 75;
        /** Also the type of the control message it asks for, {@code IP_ORIGDSTADDR}. */
        int IP_RECVORIGDSTADDR = 20;
        /** Also the type of the control message it asks for, {@code IPV6_ORIGDSTADDR}. */
        int IPV6_RECVORIGDSTADDR = 74;

        int RLIMIT_NOFILE = 7;
        int CLOCK_MONOTONIC = 1;
        int SIGHUP = 1;

        int O_NONBLOCK = 0x800;
        int O_CLOEXEC = 0x80000;
        int F_SETPIPE_SZ = 1031;
        int F_GETPIPE_SZ = 1032;
        int SPLICE_F_MOVE = 1;
        int SPLICE_F_NONBLOCK = 2;
        int MSG_PEEK = 0x2;
        int MSG_CTRUNC = 0x8;
        int MSG_TRUNC = 0x20;
        int MSG_DONTWAIT = 0x40;
        int MSG_NOSIGNAL = 0x4000;

        int EINTR = 4;
        int EAGAIN = 11;

        @SaveError
        int getsockopt(int fd, int level, int optname, @Out IntByReference optval, @In @Out IntByReference optlen);

        @SaveError
        int getsockopt(int fd, int level, int optname, @Out byte[] optval, @In @Out IntByReference optlen);

        @SaveError
        int setsockopt(int fd, int level, int optname, @In IntByReference optval, int optlen);

        /** {@code address} receives a {@code struct sockaddr_in} or {@code sockaddr_in6}. */
        @SaveError
        int getsockname(int fd, @Out byte[] address, @In @Out IntByReference length);

        @SaveError
        int getrlimit(int resource, @Out Rlimit limit);

        @SaveError
        int setrlimit(int resource, @In Rlimit limit);

        @SaveError
        int clock_gettime(int clockId, @Out Timespec time);

        /** {@code handler} null is SIG_DFL; the previous handler comes back, SIG_ERR (address -1) on failure. */
        @SaveError
        Pointer signal(int signum, Pointer handler);

        @SaveError
        int pipe2(@Out int[] fds, int flags);

        @SaveError
        int fcntl(int fd, int cmd, int arg);

        @SaveError
        int close(int fd);

        /** Offsets are null: both ends here are a socket or a pipe, which have none. */
        @SaveError
        @ssize_t long splice(int fdIn, Pointer offIn, int fdOut, Pointer offOut, @size_t long len, int flags);

        @SaveError
        @ssize_t long recv(int fd, Pointer buffer, @size_t long len, int flags);

        @SaveError
        @ssize_t long send(int fd, Pointer buffer, @size_t long len, int flags);

        @SaveError
        int socket(int domain, int type, int protocol);

        /** {@code address} is a {@code struct sockaddr_un} ({@link UnixDatagramSocket}). */
        @SaveError
        @ssize_t long sendto(int fd, @In byte[] buffer, @size_t long len, int flags, @In byte[] address,
                             int addressLength);

        /** {@code message} points at a {@code struct msghdr} ({@link Msghdr}) in native memory. */
        @SaveError
        @ssize_t long recvmsg(int fd, Pointer message, int flags);

        @IgnoreError
        String strerror(int errnum);
    }

    private static final class Loaded {
        static final LibC LIBC;
        static final Runtime RUNTIME;
        static final String PROBLEM;

        static {
            LibC libc = null;
            Runtime runtime = null;
            String problem = null;
            if (Platform.getNativePlatform().getOS() != Platform.OS.LINUX) {
                problem = "this system is " + System.getProperty("os.name") + ", not Linux";
            } else {
                try {
                    libc = LibraryLoader.create(LibC.class).load("c");
                    runtime = Runtime.getRuntime(libc);
                } catch (LinkageError | RuntimeException e) {
                    problem = "libc could not be bound through JNR: " + e;
                    libc = null;
                }
            }
            LIBC = libc;
            RUNTIME = runtime;
            PROBLEM = problem;
        }
    }

    /** Whether libc is bound, so the Linux features can work at all. */
    static boolean available() {
        return Loaded.PROBLEM == null;
    }

    /** Why libc is not bound, or null when it is. */
    static String problem() {
        return Loaded.PROBLEM;
    }

    /**
     * The bound libc.
     *
     * @param feature what the caller wants, phrased for the error, e.g. "SO_MARK needs Linux"
     * @throws UnsupportedOperationException when libc is not available here
     */
    static LibC libc(String feature) {
        if (Loaded.PROBLEM != null) {
            throw new UnsupportedOperationException(feature + "; unavailable here: " + Loaded.PROBLEM);
        }
        return Loaded.LIBC;
    }

    static Runtime runtime() {
        return Loaded.RUNTIME;
    }

    /** The failure of the call just made on this thread, from the errno JNR saved for it. */
    static ErrnoException lastError(String call, String permissionHint) {
        int errno = Loaded.RUNTIME.getLastError();
        return error(call, errno, errno == ErrnoException.EPERM ? permissionHint : null);
    }

    static ErrnoException error(String call, int errno, String hint) {
        Errno known = Errno.valueOf(errno);
        String name = known.defined() ? known.name() : "errno " + errno;
        String description = Loaded.LIBC == null ? null : Loaded.LIBC.strerror(errno);
        if (description == null || description.isEmpty()) {
            description = known.defined() ? known.description() : "unknown error";
        }
        return new ErrnoException(call, errno, name, description, hint);
    }
}
