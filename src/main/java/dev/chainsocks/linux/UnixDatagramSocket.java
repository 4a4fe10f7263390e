package dev.chainsocks.linux;

import dev.chainsocks.linux.NativeAccess.LibC;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * An {@code AF_UNIX} datagram socket that sends to a path or an abstract name, as {@code sd_notify} does. Java's
 * channels carry unix stream sockets only. Blocking and close-on-exec; safe for use from several threads.
 */
public final class UnixDatagramSocket implements Closeable {
    /** {@code sizeof(sun_path)} in {@code struct sockaddr_un}. */
    static final int MAX_ADDRESS_BYTES = 108;
    /** {@code offsetof(struct sockaddr_un, sun_path)}: the 16-bit family before it. */
    private static final int PATH_OFFSET = 2;

    private final LibC libc;
    private final int fd;
    private boolean closed;

    private UnixDatagramSocket(LibC libc, int fd) {
        this.libc = libc;
        this.fd = fd;
    }

    /**
     * Opens a socket: {@code socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)}.
     *
     * @throws ErrnoException                when the kernel refuses a socket ({@code EMFILE} among others)
     * @throws UnsupportedOperationException when libc is not available
     */
    public static UnixDatagramSocket open() throws IOException {
        LibC libc = NativeAccess.libc("unix datagram sockets need Linux");
        int fd = libc.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw NativeAccess.lastError("socket(AF_UNIX, SOCK_DGRAM)", null);
        }
        return new UnixDatagramSocket(libc, fd);
    }

    /**
     * Sends one datagram, whole: {@code sendto(MSG_NOSIGNAL)}, retried after {@code EINTR}.
     *
     * @param address a file-system path ({@code /run/systemd/notify}) or an abstract name written {@code @name}
     * @throws IllegalArgumentException when the address is neither, or longer than {@code sun_path}
     * @throws ErrnoException           when the kernel refuses it: {@code ENOENT} or {@code ECONNREFUSED} when nobody
     *                                  has that address, {@code EACCES} without write permission on it
     */
    public synchronized void send(byte[] datagram, String address) throws IOException {
        if (closed) {
            throw new IOException("the socket is closed");
        }
        byte[] sockaddr = sockaddr(address);
        while (true) {
            long sent = libc.sendto(fd, datagram, datagram.length, LibC.MSG_NOSIGNAL, sockaddr, sockaddr.length);
            if (sent == datagram.length) {
                return;
            }
            if (sent >= 0) {
                throw new IOException("sent " + sent + " of " + datagram.length + " bytes to " + address);
            }
            ErrnoException error = NativeAccess.lastError("sendto(" + address + ")", null);
            if (error.errno() != LibC.EINTR) {
                throw error;
            }
        }
    }

    /**
     * The {@code struct sockaddr_un} of an address and its length as {@code sendto} takes it: the family in the
     * machine's byte order, then the path and its terminating NUL, or for {@code @name} a NUL and exactly the name
     * (an abstract name's length is part of the name).
     */
    static byte[] sockaddr(String address) {
        byte[] name = address.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = address.startsWith("@") && address.length() > 1;
        if (!address.startsWith("/") && !abstractName) {
            throw new IllegalArgumentException("\"" + address + "\" is neither a path nor an @abstract name");
        }
        int pathBytes = abstractName ? name.length : name.length + 1;
        if (pathBytes > MAX_ADDRESS_BYTES) {
            throw new IllegalArgumentException("\"" + address + "\" is longer than a unix socket address ("
                    + MAX_ADDRESS_BYTES + " bytes)");
        }
        ByteBuffer out = ByteBuffer.allocate(PATH_OFFSET + pathBytes).order(ByteOrder.nativeOrder());
        out.putShort((short) LibC.AF_UNIX);
        if (abstractName) {
            out.put((byte) 0).put(name, 1, name.length - 1);
        } else {
            out.put(name).put((byte) 0);
        }
        return out.array();
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (libc.close(fd) != 0) {
            throw NativeAccess.lastError("close", null);
        }
    }
}
