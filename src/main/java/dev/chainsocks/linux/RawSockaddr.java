package dev.chainsocks.linux;

import dev.chainsocks.linux.NativeAccess.LibC;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A {@code struct sockaddr_in} or {@code sockaddr_in6} as the kernel wrote it into a byte array: the family in host
 * order, the port and address in network order. Cheaper per call than a JNR {@code Struct}, for the calls made on
 * every connection.
 */
final class RawSockaddr {

    /** {@code sizeof(struct sockaddr_in6)}, the larger of the two. */
    static final int MAX_SIZE = 28;

    private RawSockaddr() {
    }

    /**
     * @param length         how many bytes of {@code raw} the kernel wrote
     * @param expectedFamily {@link LibC#AF_INET}, {@link LibC#AF_INET6}, or 0 for either
     * @param what           the call and the address, for the error ("getsockname", "recvmsg: sender")
     */
    static InetSocketAddress parse(byte[] raw, int length, int expectedFamily, String what) throws IOException {
        if (length < 4) {
            throw new IOException(what + ": address missing (" + length + " bytes)");
        }
        ByteBuffer view = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
        int family = view.getShort(0) & 0xffff;
        int port = ((raw[2] & 0xff) << 8) | (raw[3] & 0xff);
        boolean expected = expectedFamily == 0 || family == expectedFamily;
        if (expected && family == LibC.AF_INET && length >= 16) {
            return new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOfRange(raw, 4, 8)), port);
        }
        if (expected && family == LibC.AF_INET6 && length >= MAX_SIZE) {
            byte[] address = Arrays.copyOfRange(raw, 8, 24);
            int scope = view.getInt(24);
            // getByAddress turns an IPv4-mapped address (a dual-stack socket's IPv4 peer) into an Inet4Address.
            InetAddress host = scope == 0 ? InetAddress.getByAddress(address)
                    : Inet6Address.getByAddress(null, address, scope);
            return new InetSocketAddress(host, port);
        }
        throw new IOException(what + ": address family " + family + " and " + length + " bytes; expected "
                + switch (expectedFamily) {
                    case LibC.AF_INET -> "AF_INET(" + LibC.AF_INET + ")";
                    case LibC.AF_INET6 -> "AF_INET6(" + LibC.AF_INET6 + ")";
                    default -> "AF_INET(" + LibC.AF_INET + ") or AF_INET6(" + LibC.AF_INET6 + ")";
                });
    }
}
