package dev.chainsocks.proto.dns;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Domain names as this codec keeps them: dotted text without the final dot, each label 1..63 bytes of printable
 * US-ASCII other than the dot, at most 255 bytes on the wire. Names with other bytes in their labels (legal in DNS,
 * never a host name) are refused by the decoder as malformed rather than escaped.
 */
public final class DnsName {

    /** The most bytes a name takes on the wire, length octets and the root's zero included. */
    public static final int MAX_WIRE_LENGTH = 255;
    /** The most bytes in one label. */
    public static final int MAX_LABEL = 63;

    private DnsName() {
    }

    /**
     * Checks a dotted name.
     *
     * @throws IllegalArgumentException naming the fault
     */
    static void check(String name) {
        if (name == null) {
            throw new NullPointerException("name");
        }
        String problem = problem(name);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** Why {@code name} cannot be written, or null. */
    static String problem(String name) {
        if (name.isEmpty()) {
            return null;
        }
        if (wireLength(name) > MAX_WIRE_LENGTH) {
            return "name longer than " + MAX_WIRE_LENGTH + " bytes on the wire: " + name;
        }
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > MAX_LABEL) {
                return "label of " + label.length() + " bytes in \"" + name + "\" (use 1.." + MAX_LABEL + ")";
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!printable(c)) {
                    return "character " + String.format("0x%02x", (int) c) + " in \"" + name
                            + "\" (a name's labels are printable US-ASCII)";
                }
            }
        }
        return null;
    }

    static boolean printable(int c) {
        return c > 0x20 && c < 0x7f && c != '.';
    }

    /** Bytes on the wire, uncompressed: each label with its length octet, and the root's zero. */
    static int wireLength(String name) {
        return name.isEmpty() ? 1 : name.getBytes(StandardCharsets.US_ASCII).length + 2;
    }

    /** The form names are compared in: lower case (DNS names are case-insensitive, RFC 4343), no final dot. */
    public static String canonical(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    /** Whether {@code name} is {@code suffix} or ends with {@code "." + suffix}, compared in canonical form. */
    public static boolean hasSuffix(String name, String suffix) {
        String n = canonical(name);
        String s = canonical(suffix);
        return s.isEmpty() || n.equals(s) || n.endsWith("." + s);
    }
}
