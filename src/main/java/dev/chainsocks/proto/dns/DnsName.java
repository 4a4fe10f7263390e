package dev.chainsocks.proto.dns;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

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

    private static final Pattern REVERSE_V4 = Pattern.compile(
            "((?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){4})in-addr\\.arpa");
    private static final Pattern REVERSE_V6 = Pattern.compile("((?:[0-9a-f]\\.){32})ip6\\.arpa");

    /**
     * The address a reverse-lookup name stands for: {@code 4.3.2.1.in-addr.arpa} is {@code 1.2.3.4}, 32 nibbles
     * under {@code ip6.arpa} an IPv6 address (RFC 1035 section 3.5, RFC 3596 section 2.5). Empty for other names,
     * including the partial ones that name a network.
     */
    public static Optional<InetAddress> reverseAddress(String name) {
        String n = canonical(name);
        byte[] bytes;
        var v4 = REVERSE_V4.matcher(n);
        var v6 = REVERSE_V6.matcher(n);
        if (v4.matches()) {
            String[] labels = v4.group(1).split("\\.");
            bytes = new byte[4];
            for (int i = 0; i < 4; i++) {
                bytes[3 - i] = (byte) Integer.parseInt(labels[i]);
            }
        } else if (v6.matches()) {
            String nibbles = v6.group(1).replace(".", "");
            bytes = new byte[16];
            for (int i = 0; i < 32; i++) {
                int nibble = Character.digit(nibbles.charAt(31 - i), 16);
                bytes[i / 2] |= (byte) (i % 2 == 0 ? nibble << 4 : nibble);
            }
        } else {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.getByAddress(bytes));
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    /** {@code name} on the wire, uncompressed: each label with its length octet, then the root's zero. */
    static byte[] wire(String name) {
        check(name);
        ByteArrayOutputStream out = new ByteArrayOutputStream(wireLength(name));
        if (!name.isEmpty()) {
            for (String label : name.split("\\.")) {
                byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                out.write(bytes.length);
                out.write(bytes, 0, bytes.length);
            }
        }
        out.write(0);
        return out.toByteArray();
    }
}
