package dev.chainsocks.linux;

import dev.chainsocks.linux.NativeAccess.LibC;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Objects;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import jnr.ffi.byref.IntByReference;

/**
 * Receives datagrams together with the address they were sent to, which for a TPROXY socket is the original
 * destination: {@code IP_RECVORIGDSTADDR} (and {@code IPV6_RECVORIGDSTADDR} on IPv6 sockets) makes the kernel attach
 * it to every datagram as an {@code IP_ORIGDSTADDR} / {@code IPV6_ORIGDSTADDR} control message, and
 * {@code recvmsg(2)} reads payload, sender and that message in one call. The JDK's {@code DatagramChannel.receive}
 * cannot read control messages, hence this class.
 *
 * <p>One instance belongs to one channel and is used by one thread (its native buffers are reused); not
 * thread-safe. The channel must be non-blocking or the call is made with {@code MSG_DONTWAIT} anyway.
 */
public final class OriginalDestinationReceiver {

    /** One received datagram: who sent it, and where it was going. */
    public record Datagram(InetSocketAddress source, InetSocketAddress originalDestination, int length,
                           boolean truncated) {
        public Datagram {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(originalDestination, "originalDestination");
        }
    }

    private static final String FEATURE = "IP_RECVORIGDSTADDR (TPROXY for UDP) needs Linux";
    private static final String CALL = "recvmsg";
    /** {@code sizeof(struct sockaddr_storage)}. */
    private static final int NAME_SIZE = 128;
    /** Room for the original-destination message plus others the kernel may add. */
    private static final int CONTROL_SIZE = 256;

    private final DatagramChannel channel;
    private final Runtime runtime;
    private final int capacity;
    private final Pointer data;
    private final Pointer name;
    private final Pointer control;
    private final Msghdr message;
    private final Pointer messageMemory;
    /** Referenced only from {@link #message} in native memory; kept here so it stays reachable. */
    private final Iovec iovec;
    private final byte[] copy;

    private OriginalDestinationReceiver(DatagramChannel channel, int capacity) {
        this.channel = channel;
        this.runtime = NativeAccess.runtime();
        this.capacity = capacity;
        this.data = Memory.allocateDirect(runtime, capacity);
        this.name = Memory.allocateDirect(runtime, NAME_SIZE);
        this.control = Memory.allocateDirect(runtime, CONTROL_SIZE);
        Iovec iov = new Iovec(runtime);
        iov.useMemory(Memory.allocateDirect(runtime, Struct.size(iov)));
        iov.base.set(data);
        iov.length.set(capacity);
        this.message = new Msghdr(runtime);
        this.messageMemory = Memory.allocateDirect(runtime, Struct.size(message));
        message.useMemory(messageMemory);
        message.iov.set(Struct.getMemory(iov));
        message.iovLength.set(1);
        this.iovec = iov;
        this.copy = new byte[capacity];
    }

    /**
     * Asks the kernel to attach the original destination to every datagram {@code channel} receives, and returns a
     * receiver for it. On an IPv6 socket both levels are set, so IPv4 datagrams of a dual-stack socket carry it too.
     *
     * @param capacity the largest payload read whole; longer datagrams are cut and reported as truncated
     */
    public static OriginalDestinationReceiver enable(DatagramChannel channel, int capacity) throws IOException {
        LibC libc = NativeAccess.libc(FEATURE);
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        int fd = ChannelDescriptor.of(channel);
        int domain = LinuxSockets.intOption(channel, LibC.SOL_SOCKET, LibC.SO_DOMAIN, "getsockopt(SO_DOMAIN)");
        if (domain == LibC.AF_INET6) {
            set(libc, fd, LibC.SOL_IPV6, LibC.IPV6_RECVORIGDSTADDR, "setsockopt(IPV6_RECVORIGDSTADDR)");
        }
        set(libc, fd, LibC.SOL_IP, LibC.IP_RECVORIGDSTADDR, "setsockopt(IP_RECVORIGDSTADDR)");
        return new OriginalDestinationReceiver(channel, capacity);
    }

    private static void set(LibC libc, int fd, int level, int option, String call) throws IOException {
        if (libc.setsockopt(fd, level, option, new IntByReference(1), Integer.BYTES) != 0) {
            throw NativeAccess.lastError(call, null);
        }
    }

    /** The largest payload one {@link #receive} reads whole. */
    public int capacity() {
        return capacity;
    }

    /**
     * Reads one datagram into {@code into} (from its position, at most its remaining space or {@link #capacity()};
     * the position moves past the payload).
     *
     * @return the datagram's addresses, or null when none is waiting
     * @throws ErrnoException when the call fails
     * @throws IOException when the kernel attached no original destination (the option was cleared, or the
     *                     datagram came before it was set)
     */
    public Datagram receive(ByteBuffer into) throws IOException {
        LibC libc = NativeAccess.libc(FEATURE);
        int fd = ChannelDescriptor.of(channel);
        message.name.set(name);
        message.nameLength.set(NAME_SIZE);
        message.control.set(control);
        message.controlLength.set(CONTROL_SIZE);
        message.flags.set(0);
        long received;
        while (true) {
            received = libc.recvmsg(fd, messageMemory, LibC.MSG_DONTWAIT);
            if (received >= 0) {
                break;
            }
            int errno = runtime.getLastError();
            if (errno == LibC.EAGAIN) {
                return null;
            }
            if (errno != LibC.EINTR) {
                throw NativeAccess.error(CALL, errno, null);
            }
        }
        int flags = message.flags.get();
        int length = (int) received;
        int stored = Math.min(length, into.remaining());
        data.get(0, copy, 0, stored);
        into.put(copy, 0, stored);
        InetSocketAddress source = socketAddress(name, 0, (int) message.nameLength.get(), "sender");
        InetSocketAddress destination = originalDestination((int) message.controlLength.get(), flags);
        return new Datagram(source, destination, stored, stored < length || (flags & LibC.MSG_TRUNC) != 0);
    }

    private InetSocketAddress originalDestination(int controlLength, int flags) throws IOException {
        int word = runtime.addressSize();
        int header = align(word + 2 * Integer.BYTES, word);
        int offset = 0;
        while (offset + header <= controlLength) {
            long length = word == Long.BYTES ? control.getLong(offset) : control.getInt(offset) & 0xffffffffL;
            int level = control.getInt(offset + word);
            int type = control.getInt(offset + word + Integer.BYTES);
            if (length < header || offset + length > controlLength) {
                break;
            }
            boolean ipv4 = level == LibC.SOL_IP && type == LibC.IP_RECVORIGDSTADDR;
            boolean ipv6 = level == LibC.SOL_IPV6 && type == LibC.IPV6_RECVORIGDSTADDR;
            if (ipv4 || ipv6) {
                return socketAddress(control, offset + header, (int) length - header, "original destination");
            }
            offset += align((int) length, word);
        }
        throw new IOException(CALL + ": no IP_ORIGDSTADDR control message with the datagram"
                + ((flags & LibC.MSG_CTRUNC) != 0 ? " (control messages were cut short)" : "")
                + "; the socket needs IP_RECVORIGDSTADDR");
    }

    private static int align(int length, int word) {
        return (length + word - 1) & -word;
    }

    /** A {@code sockaddr_in} or {@code sockaddr_in6} at {@code offset}. */
    private static InetSocketAddress socketAddress(Pointer memory, long offset, int length, String what)
            throws IOException {
        byte[] raw = new byte[Math.max(0, Math.min(length, RawSockaddr.MAX_SIZE))];
        memory.get(offset, raw, 0, raw.length);
        return RawSockaddr.parse(raw, raw.length, 0, CALL + ": " + what);
    }
}
