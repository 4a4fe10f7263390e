package dev.chainsocks.proto.http;

import dev.chainsocks.proto.Destination;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Parses the {@code host[:port]} of a CONNECT target or an http URL (RFC 3986 section 3.2.2) into a
 * {@link Destination}, without any name lookup: an IPv4 dotted quad or a bracketed IPv6 literal becomes an
 * {@link Destination.Ip}, anything else a {@link Destination.Name} for the next hop to resolve.
 */
final class HttpAuthority {

    private static final String REG_NAME_SYMBOLS = "-._~!$&'()*+,;=%";

    private HttpAuthority() {
    }

    /**
     * @param defaultPort the port when none is given, or -1 when a port is required (CONNECT)
     * @throws IllegalArgumentException naming what is wrong
     */
    static Destination parse(String authority, int defaultPort) {
        String host;
        String port;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("unclosed IPv6 literal in \"" + authority + "\"");
            }
            host = authority.substring(0, close + 1);
            String rest = authority.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                throw new IllegalArgumentException("unexpected \"" + rest + "\" after IPv6 literal");
            }
            port = rest.isEmpty() ? null : rest.substring(1);
        } else {
            int colon = authority.lastIndexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            port = colon < 0 ? null : authority.substring(colon + 1);
        }
        int portNumber = port(port, defaultPort, authority);
        if (host.startsWith("[")) {
            return new Destination.Ip(ipv6(host), portNumber);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("no host in \"" + authority + "\"");
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean allowed = c <= 0x7e && (Character.isLetterOrDigit(c) || REG_NAME_SYMBOLS.indexOf(c) >= 0);
            if (!allowed) {
                throw new IllegalArgumentException("character '" + c + "' in host \"" + host + "\"");
            }
        }
        byte[] ipv4 = ipv4(host);
        return ipv4 == null
                ? new Destination.Name(host, portNumber)
                : new Destination.Ip(literal(ipv4, host), portNumber);
    }

    private static int port(String port, int defaultPort, String authority) {
        if (port == null || port.isEmpty()) {
            if (defaultPort < 0) {
                throw new IllegalArgumentException("no port in \"" + authority + "\"");
            }
            return defaultPort;
        }
        if (port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("bad port \"" + port + "\" in \"" + authority + "\"");
        }
        int number = Integer.parseInt(port);
        if (number < 1 || number > 65535) {
            throw new IllegalArgumentException("port " + number + " out of range 1..65535");
        }
        return number;
    }

    private static InetAddress ipv6(String bracketed) {
        String literal = bracketed.substring(1, bracketed.length() - 1);
        if (literal.isEmpty() || !literal.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
            throw new IllegalArgumentException("bad IPv6 literal " + bracketed);
        }
        try {
            return InetAddress.getByName(bracketed); // bracketed hex and colons: parsed as a literal, never looked up
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad IPv6 literal " + bracketed, e);
        }
    }

    /** The four bytes of a strict dotted-quad literal, or null when the host is not one. */
    private static byte[] ipv4(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] address = new byte[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            int value = Integer.parseInt(part);
            if (value > 255) {
                return null;
            }
            address[i] = (byte) value;
        }
        return address;
    }

    private static InetAddress literal(byte[] address, String host) {
        try {
            return InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new AssertionError(host, e);
        }
    }
}
