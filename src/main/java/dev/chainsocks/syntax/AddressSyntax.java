package dev.chainsocks.syntax;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Addresses as chainsocks writes them everywhere (logs, status, errors, rules): IPv6 in the short form of RFC 5952,
 * in brackets when a port follows, and never the reverse lookups that {@code InetSocketAddress.toString()} may do.
 */
public final class AddressSyntax {

    private AddressSyntax() {
    }

    /** An address as text, IPv6 in the short form of RFC 5952 ({@code fc00::}), without brackets or zone. */
    public static String literal(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    /**
     * {@code 198.18.1.2:50412}, {@code [fd00:1::2]:50412}; an unresolved address as {@code name:port}; {@code -} for
     * none.
     */
    public static String format(InetSocketAddress address) {
        if (address == null) {
            return "-";
        }
        if (address.isUnresolved()) {
            return address.getHostString() + ":" + address.getPort();
        }
        String host = literal(address.getAddress());
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
