package dev.chainsocks.proto.socks4;

import dev.chainsocks.proto.Destination;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A SOCKS4 request {@code VN=4 CD DSTPORT DSTIP USERID NUL}, or its SOCKS4a form when the destination is a
 * {@link Destination.Name}: {@code DSTIP} is then 0.0.0.1 and the host name follows the userid, NUL-terminated.
 *
 * <p>Rules enforced here, so nothing invalid reaches the wire: the destination is an IPv4 address or a name (SOCKS4
 * has no IPv6); an IPv4 destination is not 0.0.0.x with x != 0, which a server would read as SOCKS4a; the userid
 * holds no NUL and is at most {@value #MAX_USER_ID_BYTES} bytes (the name's own limits are {@link Destination.Name}'s).
 */
public record Socks4Request(Socks4Command command, Destination destination, String userId) {

    /** Our cap on the userid (and on the 4a host name): the protocol sets none, a decoder must. */
    public static final int MAX_USER_ID_BYTES = 255;

    public Socks4Request {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(destination, "destination");
        userId = userId == null ? "" : userId;
        if (destination instanceof Destination.Ip ip) {
            if (!(ip.address() instanceof Inet4Address)) {
                throw new IllegalArgumentException("SOCKS4 cannot carry an IPv6 destination: " + destination);
            }
            if (isSocks4aMarker(ip.address().getAddress())) {
                throw new IllegalArgumentException(
                        "SOCKS4 destination " + destination + " is in 0.0.0.0/24, which servers read as SOCKS4a");
            }
        }
        if (userId.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("SOCKS4 userid contains NUL");
        }
        int length = userId.getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_USER_ID_BYTES) {
            throw new IllegalArgumentException(
                    "SOCKS4 userid is " + length + " bytes, at most " + MAX_USER_ID_BYTES + " allowed");
        }
    }

    /** Whether this is the 4a form (the destination is a name the server resolves). */
    public boolean isSocks4a() {
        return destination instanceof Destination.Name;
    }

    /** DSTIP 0.0.0.x with x != 0: "the client could not resolve the name, it follows the userid". */
    static boolean isSocks4aMarker(byte[] ipv4) {
        return ipv4[0] == 0 && ipv4[1] == 0 && ipv4[2] == 0 && ipv4[3] != 0;
    }

    @Override
    public String toString() {
        return (isSocks4a() ? "SOCKS4a " : "SOCKS4 ") + command.name() + " " + destination
                + (userId.isEmpty() ? "" : " userid " + userId);
    }
}
