package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.Destination;
import java.util.Objects;

/**
 * A SOCKS5 request, {@code VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT} (RFC 1928 section 4). A name destination goes
 * on the wire as ATYP DOMAIN, unresolved.
 */
public record Socks5Request(Socks5Command command, Destination destination) {

    public Socks5Request {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(destination, "destination");
    }

    @Override
    public String toString() {
        return "SOCKS5 " + command.name() + " " + destination;
    }
}
