package dev.chainsocks.proto.socks4;

import dev.chainsocks.proto.Destination;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * A SOCKS4 reply {@code VN=0 CD DSTPORT DSTIP}, 8 bytes. For CONNECT the address and port are meaningless and
 * clients ignore them; for BIND they are the listening socket (address 0.0.0.0 means "the server's address").
 */
public record Socks4Reply(Socks4ReplyCode code, Destination.Ip bound) {

    /** 0.0.0.0:0, what a server reports when it has nothing to report. */
    public static final Destination.Ip UNSPECIFIED = new Destination.Ip(ipv4Any(), 0);

    public Socks4Reply {
        Objects.requireNonNull(code, "code");
        bound = bound == null ? UNSPECIFIED : bound;
        if (!(bound.address() instanceof Inet4Address)) {
            throw new IllegalArgumentException("SOCKS4 reply can only carry an IPv4 address: " + bound);
        }
    }

    /**
     * A reply for any bound address: an IPv4 address is reported as is; for a name or IPv6 the port is kept and the
     * address is 0.0.0.0, since SOCKS4 has no way to say more.
     */
    public static Socks4Reply of(Socks4ReplyCode code, Destination bound) {
        if (bound instanceof Destination.Ip ip && ip.address() instanceof Inet4Address) {
            return new Socks4Reply(code, ip);
        }
        return new Socks4Reply(code, new Destination.Ip(ipv4Any(), bound == null ? 0 : bound.port()));
    }

    private static InetAddress ipv4Any() {
        try {
            return InetAddress.getByAddress(new byte[4]);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are always an address", e);
        }
    }

    @Override
    public String toString() {
        return "SOCKS4 reply " + code + " bound " + bound;
    }
}
