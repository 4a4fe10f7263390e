package dev.chainsocks.linux;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import dev.chainsocks.linux.NativeAccess.LibC;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code struct sockaddr_in6}: family in host order, port and address in network order, then the scope id. */
final class SockaddrIn6 extends Struct {
    final Unsigned16 family = new Unsigned16();
    final Unsigned8[] port = array(new Unsigned8[2]);
    final Unsigned32 flowInfo = new Unsigned32();
    final Unsigned8[] address = array(new Unsigned8[16]);
    final Unsigned32 scopeId = new Unsigned32();

    SockaddrIn6(Runtime runtime) {
        super(runtime);
    }

    InetSocketAddress toSocketAddress(java.lang.String call) throws IOException {
        if (family.intValue() != LibC.AF_INET6) {
            throw new IOException(call + ": kernel returned address family " + family.intValue()
                    + ", expected AF_INET6(" + LibC.AF_INET6 + ")");
        }
        byte[] bytes = SockaddrIn.bytes(address);
        int scope = (int) scopeId.get();
        // InetAddress.getByAddress turns an IPv4-mapped address into a plain Inet4Address, which is what we want.
        InetAddress host = scope == 0 ? InetAddress.getByAddress(bytes) : Inet6Address.getByAddress(null, bytes, scope);
        return new InetSocketAddress(host, SockaddrIn.networkOrderPort(port));
    }
}
