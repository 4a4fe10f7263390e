package dev.chainsocks.proto;

import dev.chainsocks.syntax.AddressSyntax;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Where a connection should go: an IP address and port, or a host name (not resolved here) and port.
 *
 * <p>SOCKS4a, SOCKS5 DOMAIN and HTTP CONNECT carry names; the point of keeping a name unresolved is that the
 * last proxy resolves it, not us (no DNS leak). {@link #toString()} prints {@code host:port}, with IPv6 in
 * brackets, ready for logs and for an HTTP CONNECT request line.
 */
public sealed interface Destination permits Destination.Ip, Destination.Name {

    int port();

    /** The host as it goes into a log line or an HTTP authority: a name, an IPv4 literal or a bracketed IPv6. */
    String hostString();

    static Destination of(InetSocketAddress address) {
        if (address.isUnresolved()) {
            return new Name(address.getHostString(), address.getPort());
        }
        return new Ip(address.getAddress(), address.getPort());
    }

    static Destination ip(InetAddress address, int port) {
        return new Ip(address, port);
    }

    static Destination name(String host, int port) {
        return new Name(host, port);
    }

    /** An IP socket address. */
    record Ip(InetAddress address, int port) implements Destination {
        public Ip {
            Objects.requireNonNull(address, "address");
            checkPort(port);
        }

        public InetSocketAddress socketAddress() {
            return new InetSocketAddress(address, port);
        }

        public boolean isIpv6() {
            return address instanceof Inet6Address;
        }

        @Override
        public String hostString() {
            String literal = AddressSyntax.literal(address);
            return isIpv6() ? "[" + literal + "]" : literal;
        }

        @Override
        public String toString() {
            return hostString() + ":" + port;
        }
    }

    /** A host name that has not been resolved, 1..255 bytes of US-ASCII/UTF-8 with no NUL. */
    record Name(String host, int port) implements Destination {
        public Name {
            Objects.requireNonNull(host, "host");
            int length = host.getBytes(StandardCharsets.UTF_8).length;
            if (length < 1 || length > 255) {
                throw new IllegalArgumentException("host name must be 1..255 bytes, got " + length + ": " + host);
            }
            if (host.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("host name contains NUL");
            }
            checkPort(port);
        }

        public InetSocketAddress unresolved() {
            return InetSocketAddress.createUnresolved(host, port);
        }

        @Override
        public String hostString() {
            return host;
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    private static void checkPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range 0..65535: " + port);
        }
    }
}
