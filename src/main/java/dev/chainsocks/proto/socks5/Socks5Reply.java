package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.Destination;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * A SOCKS5 reply, {@code VER=5 REP RSV=0 ATYP BND.ADDR BND.PORT} (RFC 1928 section 6). The bound address may be
 * IPv4, IPv6 or a DOMAIN name.
 */
public record Socks5Reply(Socks5ReplyCode code, Destination bound) {

    /** 0.0.0.0:0, the bound address of a failure reply or of a server with nothing to report. */
    public static final Destination UNSPECIFIED = new Destination.Ip(ipv4Any(), 0);

    public Socks5Reply {
        Objects.requireNonNull(code, "code");
        bound = bound == null ? UNSPECIFIED : bound;
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
        return "SOCKS5 reply " + code + " bound " + bound;
    }
}
