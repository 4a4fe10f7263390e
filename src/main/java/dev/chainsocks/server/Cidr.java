package dev.chainsocks.server;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address block such as {@code 198.18.0.0/15} or {@code fd00::/8}; a plain address is a /32 or /128. */
public record Cidr(InetAddress network, int prefixLength) {

    public Cidr {
        int bits = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range 0.." + bits);
        }
    }

    /** Parses {@code address[/prefix]} with literal addresses only (no name lookups). */
    public static Cidr parse(String text) {
        String trimmed = text.trim();
        int slash = trimmed.indexOf('/');
        String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
        if (address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1);
        }
        if (address.isEmpty() || !(Character.digit(address.charAt(0), 16) >= 0 || address.charAt(0) == ':')
                || address.chars().anyMatch(c -> !(Character.digit(c, 16) >= 0 || c == '.' || c == ':'))) {
            throw new IllegalArgumentException("not an IP address block: \"" + text + "\" (expected e.g. 10.0.0.0/8)");
        }
        InetAddress network;
        try {
            network = InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address block: \"" + text + "\"", e);
        }
        int bits = network.getAddress().length * 8;
        int prefix;
        try {
            prefix = slash < 0 ? bits : Integer.parseInt(trimmed.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad prefix length in \"" + text + "\"", e);
        }
        return new Cidr(network, prefix);
    }

    public boolean contains(InetAddress address) {
        byte[] net = network.getAddress();
        byte[] candidate = address.getAddress();
        if (candidate.length == 16 && net.length == 4 && isIpv4Mapped(candidate)) {
            candidate = java.util.Arrays.copyOfRange(candidate, 12, 16);
        }
        if (candidate.length != net.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (net[i] != candidate[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xFF << (8 - rest) & 0xFF;
        return (net[full] & mask) == (candidate[full] & mask);
    }

    private static boolean isIpv4Mapped(byte[] address) {
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return address[10] == (byte) 0xFF && address[11] == (byte) 0xFF;
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }
}
