package dev.chainsocks.linux;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import dev.chainsocks.linux.NativeAccess.LibC;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code struct sockaddr_in}: family in host order, port and address in network order. */
final class SockaddrIn extends Struct {
    final Unsigned16 family = new Unsigned16();
    final Unsigned8[] port = array(new Unsigned8[2]);
    final Unsigned8[] address = array(new Unsigned8[4]);
    final Unsigned8[] zero = array(new Unsigned8[8]);

    SockaddrIn(Runtime runtime) {
        super(runtime);
    }

    InetSocketAddress toSocketAddress(java.lang.String call) throws IOException {
        if (family.intValue() != LibC.AF_INET) {
            throw new IOException(call + ": kernel returned address family " + family.intValue()
                    + ", expected AF_INET(" + LibC.AF_INET + ")");
        }
        return new InetSocketAddress(InetAddress.getByAddress(bytes(address)), networkOrderPort(port));
    }

    static byte[] bytes(Unsigned8[] field) {
        byte[] bytes = new byte[field.length];
        for (int i = 0; i < field.length; i++) {
            bytes[i] = (byte) field[i].get();
        }
        return bytes;
    }

    static int networkOrderPort(Unsigned8[] port) {
        return (port[0].get() << 8) | port[1].get();
    }
}
