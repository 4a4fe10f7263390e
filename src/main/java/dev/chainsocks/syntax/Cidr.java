package dev.chainsocks.syntax;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An IP network in CIDR notation, {@code 10.0.0.0/8} or {@code fc00::/7}, as used by {@code firewall.exempt}.
 *
 * @param network      the network address; its host bits are zero
 * @param prefixLength 0..32 for IPv4, 0..128 for IPv6
 */
public record Cidr(InetAddress network, int prefixLength) {

    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** Checks the prefix length and that no host bits are set. */
    public Cidr {
        Objects.requireNonNull(network, "network");
        int bits = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range 0.." + bits);
        }
        byte[] masked = mask(network.getAddress(), prefixLength);
        if (!java.util.Arrays.equals(masked, network.getAddress())) {
            throw new IllegalArgumentException("host bits set in " + AddressSyntax.literal(network) + "/" + prefixLength
                    + "; did you mean " + AddressSyntax.literal(address(masked)) + "/" + prefixLength + "?");
        }
    }

    /**
     * Reads {@code address/prefix}; a bare address is a single host (/32 or /128).
     *
     * @throws IllegalArgumentException naming the text and the problem
     */
    public static Cidr parse(String text) {
        String trimmed = text.strip();
        int slash = trimmed.indexOf('/');
        String host = slash < 0 ? trimmed : trimmed.substring(0, slash);
        InetAddress address = parseLiteral(host);
        if (address == null) {
            throw new IllegalArgumentException("invalid network \"" + text
                    + "\" (write an IP address and prefix length, e.g. 10.0.0.0/8 or fc00::/7)");
        }
        int bits = address.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String digits = trimmed.substring(slash + 1);
            if (digits.isEmpty() || digits.length() > 3 || !digits.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("invalid prefix length in \"" + text + "\" (use 0.." + bits + ")");
            }
            prefix = Integer.parseInt(digits);
        }
        try {
            return new Cidr(address, prefix);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid network \"" + text + "\": " + e.getMessage(), e);
        }
    }

    /** Whether this is an IPv6 network. */
    public boolean isIpv6() {
        return network instanceof Inet6Address;
    }

    /** Whether the address lies inside this network (always false across families). */
    public boolean contains(InetAddress address) {
        if (address.getAddress().length != network.getAddress().length) {
            return false;
        }
        return java.util.Arrays.equals(mask(address.getAddress(), prefixLength), network.getAddress());
    }

    /** {@code 10.0.0.0/8}, {@code fc00::/7}. */
    @Override
    public String toString() {
        return AddressSyntax.literal(network) + "/" + prefixLength;
    }

    /**
     * An IP literal or null: dotted-quad IPv4 or IPv6 (no zone); never a DNS lookup.
     */
    public static InetAddress parseLiteral(String text) {
        if (!IPV4.matcher(text).matches() && !IPV6.matcher(text).matches()) {
            return null;
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static byte[] mask(byte[] address, int prefixLength) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, prefixLength - 8 * i));
            out[i] &= (byte) (0xff << (8 - keep));
        }
        return out;
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
