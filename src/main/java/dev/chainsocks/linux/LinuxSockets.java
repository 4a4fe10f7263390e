package dev.chainsocks.linux;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import dev.chainsocks.linux.NativeAccess.LibC;
import jnr.ffi.byref.IntByReference;

/**
 * The Linux socket calls chainsocks needs and the JDK lacks, on JDK channels: {@code SO_ORIGINAL_DST},
 * {@code SO_MARK}, {@code IPV6_V6ONLY}, {@code IP_TRANSPARENT} and {@code RLIMIT_NOFILE}.
 *
 * <p>Code above reaches it through its own seams (the redirector's {@code OriginalDestinationLookup}), so tests can
 * put their own answers in its place. Failures of a call are {@link ErrnoException}s; where libc is not available
 * (not Linux) every method throws {@link UnsupportedOperationException} saying so.
 *
 * <pre>{@code
 * LinuxSockets linux = LinuxSockets.get();
 * log.info(linux.raiseNoFileLimit());
 * InetSocketAddress target = linux.originalDestination(accepted);
 * }</pre>
 */
public final class LinuxSockets {
    private static final LinuxSockets INSTANCE = new LinuxSockets();
    private static final AtomicBoolean BINDING_STARTED = new AtomicBoolean();

    private static final String ORIGINAL_DST_FEATURE =
            "SO_ORIGINAL_DST needs Linux netfilter (iptables/nftables REDIRECT) and libc";
    private static final String GRANT = "run as root or grant it, e.g. AmbientCapabilities=CAP_NET_ADMIN in the "
            + "systemd unit";
    private static final String MARK_HINT = "SO_MARK needs CAP_NET_ADMIN (or CAP_NET_RAW on Linux 5.17 and later); "
            + GRANT;
    private static final String TRANSPARENT_HINT = "needs CAP_NET_ADMIN or CAP_NET_RAW; " + GRANT;

    private LinuxSockets() {
    }

    /** The one instance; it holds no state of its own. */
    public static LinuxSockets get() {
        return INSTANCE;
    }

    /**
     * Starts binding libc on a thread of its own ({@code libc-binding}): in a fresh JVM, JNR generating its call
     * stubs takes about a third of a second, which then overlaps with whatever the caller does next (reading the
     * configuration). The first native call waits for the binding to finish; a binding that fails is kept as
     * {@link #unavailableReason()} says, whichever thread met it. Only the first call starts a thread.
     */
    public static void bindInBackground() {
        if (!BINDING_STARTED.compareAndSet(false, true)) {
            return;
        }
        Thread binding = new Thread(NativeAccess::available, "libc-binding");
        binding.setDaemon(true);
        binding.start();
    }

    /** Whether the native calls can work here (Linux, libc bound through JNR). */
    public static boolean available() {
        return NativeAccess.available();
    }

    /** Why the native calls cannot work here, when they cannot. */
    public static java.util.Optional<String> unavailableReason() {
        return java.util.Optional.ofNullable(NativeAccess.problem());
    }

    /**
     * {@inheritDoc}
     *
     * <p>The level follows the accepted socket's local address: IPv4 (including an IPv4 client on a dual-stack
     * {@code [::]} listener, which the kernel tracks in the IPv4 table) asks {@code SOL_IP/SO_ORIGINAL_DST},
     * IPv6 asks {@code SOL_IPV6/IP6T_SO_ORIGINAL_DST}. An IPv4 answer is a plain {@link Inet4Address}.
     *
     * <p>A connection that was not NATed gives {@code ENOENT}, or, where conntrack tracks it anyway, the
     * listener's own address; callers should treat "original destination equals my listener" as not redirected.
     *
     * @param accepted a connection accepted by our listener, still open
     * @throws ErrnoException when the kernel has no NAT record for it ({@code ENOENT}) or the call fails
     */
    public InetSocketAddress originalDestination(SocketChannel accepted) throws IOException {
        LibC libc = NativeAccess.libc(ORIGINAL_DST_FEATURE);
        SocketAddress local = accepted.getLocalAddress();
        if (!(local instanceof InetSocketAddress localInet)) {
            throw new IOException("SO_ORIGINAL_DST needs a connected IP socket, local address is " + local);
        }
        int fd = ChannelDescriptor.of(accepted);
        boolean ipv4 = isIpv4(localInet.getAddress());
        String call = ipv4 ? "getsockopt(SO_ORIGINAL_DST)" : "getsockopt(IP6T_SO_ORIGINAL_DST)";
        byte[] address = new byte[RawSockaddr.MAX_SIZE];
        IntByReference length = new IntByReference(address.length);
        if (libc.getsockopt(fd, ipv4 ? LibC.SOL_IP : LibC.SOL_IPV6,
                ipv4 ? LibC.SO_ORIGINAL_DST : LibC.IP6T_SO_ORIGINAL_DST, address, length) != 0) {
            throw NativeAccess.lastError(call, null);
        }
        return RawSockaddr.parse(address, length.getValue(), ipv4 ? LibC.AF_INET : LibC.AF_INET6, call);
    }

    /** IPv4, or IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}) should the JDK ever hand one over unconverted. */
    private static boolean isIpv4(InetAddress address) {
        if (address instanceof Inet4Address) {
            return true;
        }
        byte[] bytes = address.getAddress();
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
    }

    /**
     * Sets {@code SO_MARK}, so routing rules and iptables can recognise (and not redirect again) our own outgoing
     * connections. Needs {@code CAP_NET_ADMIN} (or {@code CAP_NET_RAW} on Linux 5.17 and later).
     */
    public void setMark(NetworkChannel channel, int mark) throws IOException {
        LibC libc = NativeAccess.libc("SO_MARK needs Linux");
        setInt(libc, channel, LibC.SOL_SOCKET, LibC.SO_MARK, mark, "setsockopt(SO_MARK)",
                MARK_HINT);
    }

    /**
     * Sets {@code IPV6_V6ONLY} on an IPv6 socket before bind. With {@code true}, {@code [::]:P} no longer claims the
     * IPv4 side, so {@code 0.0.0.0:P} can be bound by a second socket.
     *
     * @throws IllegalArgumentException when the channel is not an IPv6 socket
     */
    public void setIpv6Only(NetworkChannel channel, boolean ipv6Only) throws IOException {
        LibC libc = NativeAccess.libc("IPV6_V6ONLY needs Linux");
        int domain = intOption(channel, LibC.SOL_SOCKET, LibC.SO_DOMAIN, "getsockopt(SO_DOMAIN)");
        if (domain != LibC.AF_INET6) {
            throw new IllegalArgumentException("IPV6_V6ONLY applies to IPv6 sockets, this one has address family "
                    + domain + " (open it with StandardProtocolFamily.INET6)");
        }
        setInt(libc, channel, LibC.SOL_IPV6, LibC.IPV6_V6ONLY, ipv6Only ? 1 : 0, "setsockopt(IPV6_V6ONLY)", null);
    }

    /**
     * Sets {@code IP_TRANSPARENT} (and {@code IPV6_TRANSPARENT} on IPv6 sockets) so a TPROXY listener can accept
     * connections addressed to other hosts. Needs {@code CAP_NET_ADMIN} (or {@code CAP_NET_RAW}).
     */
    public void setTransparent(NetworkChannel channel) throws IOException {
        LibC libc = NativeAccess.libc("IP_TRANSPARENT (TPROXY) needs Linux");
        int domain = intOption(channel, LibC.SOL_SOCKET, LibC.SO_DOMAIN, "getsockopt(SO_DOMAIN)");
        if (domain == LibC.AF_INET6) {
            setInt(libc, channel, LibC.SOL_IPV6, LibC.IPV6_TRANSPARENT, 1, "setsockopt(IPV6_TRANSPARENT)",
                    "IPV6_TRANSPARENT " + TRANSPARENT_HINT);
        }
        // On a dual-stack IPv6 socket this covers the IPv4 side as well.
        setInt(libc, channel, LibC.SOL_IP, LibC.IP_TRANSPARENT, 1, "setsockopt(IP_TRANSPARENT)",
                "IP_TRANSPARENT " + TRANSPARENT_HINT);
    }

    /** The soft {@code RLIMIT_NOFILE} in force now: how many descriptors the process may hold; -1 for unlimited. */
    public long openFilesLimit() throws IOException {
        LibC libc = NativeAccess.libc("RLIMIT_NOFILE needs Linux");
        Rlimit current = new Rlimit(NativeAccess.runtime());
        if (libc.getrlimit(LibC.RLIMIT_NOFILE, current) != 0) {
            throw NativeAccess.lastError("getrlimit(RLIMIT_NOFILE)", null);
        }
        return current.soft.get();
    }

    /**
     * Raises the soft {@code RLIMIT_NOFILE} to the hard limit and says what it was and is now. Raising the soft
     * limit up to the hard one needs no privilege.
     */
    public NoFileLimit raiseNoFileLimit() throws IOException {
        LibC libc = NativeAccess.libc("RLIMIT_NOFILE needs Linux");
        Rlimit current = new Rlimit(NativeAccess.runtime());
        if (libc.getrlimit(LibC.RLIMIT_NOFILE, current) != 0) {
            throw NativeAccess.lastError("getrlimit(RLIMIT_NOFILE)", null);
        }
        long soft = current.soft.get();
        long hard = current.hard.get();
        if (soft == hard) {
            return new NoFileLimit(soft, soft, hard);
        }
        Rlimit raised = new Rlimit(NativeAccess.runtime());
        raised.soft.set(hard);
        raised.hard.set(hard);
        if (libc.setrlimit(LibC.RLIMIT_NOFILE, raised) != 0) {
            throw NativeAccess.lastError("setrlimit(RLIMIT_NOFILE)", null);
        }
        return new NoFileLimit(soft, hard, hard);
    }

    /**
     * The local address of a socket, read from the kernel. Right after a non-blocking {@code connect()} the kernel
     * has chosen it, while the JDK asks for it only once the connection is established.
     */
    public InetSocketAddress localAddress(NetworkChannel channel) throws IOException {
        LibC libc = NativeAccess.libc("getsockname needs Linux");
        int fd = ChannelDescriptor.of(channel);
        byte[] address = new byte[RawSockaddr.MAX_SIZE];
        IntByReference length = new IntByReference(address.length);
        if (libc.getsockname(fd, address, length) != 0) {
            throw NativeAccess.lastError("getsockname", null);
        }
        return RawSockaddr.parse(address, length.getValue(), 0, "getsockname");
    }

    /** Reads an int-valued socket option; package-private so tests can check what the setters did. */
    static int intOption(NetworkChannel channel, int level, int option, String call) throws IOException {
        LibC libc = NativeAccess.libc(call + " needs Linux");
        int fd = ChannelDescriptor.of(channel);
        IntByReference value = new IntByReference();
        IntByReference length = new IntByReference(Integer.BYTES);
        if (libc.getsockopt(fd, level, option, value, length) != 0) {
            throw NativeAccess.lastError(call, null);
        }
        return value.getValue();
    }

    private static void setInt(LibC libc, NetworkChannel channel, int level, int option, int value, String call,
                               String permissionHint) throws IOException {
        int fd = ChannelDescriptor.of(channel);
        if (libc.setsockopt(fd, level, option, new IntByReference(value), Integer.BYTES) != 0) {
            throw NativeAccess.lastError(call, permissionHint);
        }
    }
}
