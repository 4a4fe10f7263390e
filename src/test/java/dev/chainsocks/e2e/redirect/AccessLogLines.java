package dev.chainsocks.e2e.redirect;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads chainsocks' access-log lines ({@code run} and {@code socks-server} write the same shape):
 * <pre>
 * session 3 start client=198.18.1.2:41234 dst=198.19.2.2:8080 via=two[socks5://... -> socks4a://...]
 * session 3 end client=198.18.1.2:41234 dst=198.19.2.2:8080 via=two[...] up=89B down=272B elapsed=0.1s outcome=ok
 * session 4 refused client=198.18.1.2:41240 reason=loop: ...
 * </pre>
 */
final class AccessLogLines {

    private static final Pattern START = Pattern.compile(" session \\d+ start ");
    private static final Pattern END = Pattern.compile(" session \\d+ end ");
    private static final Pattern REFUSED = Pattern.compile(" session \\d+ refused ");
    private static final Pattern BYTES = Pattern.compile("\\b(up|down)=(\\d+)B\\b");
    private static final Pattern BRACKETED_IPV6 = Pattern.compile("\\[([0-9A-Fa-f:]+)]");

    private AccessLogLines() {
    }

    static boolean isStart(String line) {
        return START.matcher(line).find();
    }

    static boolean isEnd(String line) {
        return END.matcher(line).find();
    }

    static boolean isRefused(String line) {
        return REFUSED.matcher(line).find();
    }

    static List<String> starts(List<String> lines) {
        return lines.stream().filter(AccessLogLines::isStart).toList();
    }

    /** True for a line of a session that used chain {@code chain} ({@code via=chain[...]}). */
    static boolean viaChain(String line, String chain) {
        return line.contains(" via=" + chain + "[");
    }

    /** The value of {@code up=NB} or {@code down=NB}. */
    static long bytes(String line, String direction) {
        Matcher matcher = BYTES.matcher(line);
        while (matcher.find()) {
            if (matcher.group(1).equals(direction)) {
                return Long.parseLong(matcher.group(2));
            }
        }
        throw new AssertionError("no " + direction + "= in: " + line);
    }

    /**
     * The line with every bracketed IPv6 address in its shortest form ({@code [fd00:2::2]}), so tests can compare
     * with {@link dev.chainsocks.e2e.Endpoint#toString()} whether the log prints {@code fd00:2:0:0:0:0:0:2} or not.
     */
    static String normalized(String line) {
        Matcher matcher = BRACKETED_IPV6.matcher(line);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            matcher.appendReplacement(out, Matcher.quoteReplacement("[" + shortIpv6(matcher.group(1)) + "]"));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    /** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as {@code ::}. */
    static String shortIpv6(String literal) {
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(literal).getAddress();
        } catch (UnknownHostException e) {
            return literal;
        }
        if (bytes.length != 16) {
            return literal;
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; i++) {
            int length = 0;
            while (i + length < 8 && groups[i + length] == 0) {
                length++;
            }
            if (length > bestLength) {
                bestStart = i;
                bestLength = length;
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }
}
