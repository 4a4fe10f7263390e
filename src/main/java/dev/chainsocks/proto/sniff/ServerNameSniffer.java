package dev.chainsocks.proto.sniff;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Finds the host name a client is about to talk to in the first bytes it sends: the {@code server_name} extension
 * of a TLS ClientHello (RFC 8446 section 4.1.2, RFC 6066 section 3), or the {@code Host:} header of an HTTP/1
 * request. Sans-I/O and read-only: it looks at a buffer and never moves it, so the bytes can be relayed unaltered.
 */
public final class ServerNameSniffer {

    /**
     * The most bytes worth looking at: one full TLS record, which holds a ClientHello unless the client split it
     * (the parts of a split one are read as long as they fit); an HTTP request head is shorter.
     */
    public static final int MAX_BYTES = 16 * 1024 + 5;

    private static final Pattern HOST_NAME = Pattern.compile(
            "(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}"
                    + "[A-Za-z0-9_])?)*\\.?");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private ServerNameSniffer() {
    }

    /** What the first bytes say. */
    public sealed interface Sniffed permits Sniffed.Found, Sniffed.NeedMore, Sniffed.NoName {
        /** A host name, lower case, without a final dot or port. */
        record Found(String host, Protocol protocol) implements Sniffed {
            public Found {
                Objects.requireNonNull(host, "host");
                Objects.requireNonNull(protocol, "protocol");
            }
        }

        /** The bytes so far are the start of a ClientHello or request head; more may hold the name. */
        record NeedMore() implements Sniffed {
        }

        /** No name here: another protocol, or no server_name / Host, or an IP literal. {@code why} says which. */
        record NoName(String why) implements Sniffed {
        }
    }

    /** Where the name came from. */
    public enum Protocol {
        TLS_SNI, HTTP_HOST;

        @Override
        public String toString() {
            return this == TLS_SNI ? "TLS SNI" : "HTTP Host";
        }
    }

    /** Looks at {@code in}'s remaining bytes; the buffer is not moved. */
    public static Sniffed sniff(ByteBuffer in) {
        ByteBuffer view = in.duplicate();
        if (!view.hasRemaining()) {
            return new Sniffed.NeedMore();
        }
        int first = view.get(view.position()) & 0xff;
        if (first == 0x16) {
            return tls(view);
        }
        if (first >= 'A' && first <= 'Z') {
            return http(view);
        }
        return new Sniffed.NoName("neither TLS nor HTTP: first byte " + String.format("0x%02x", first));
    }

    /**
     * A ClientHello may span several handshake records (a client may fragment it, RFC 8446 section 5.1): the
     * payloads of consecutive handshake records are joined before the hello is read.
     */
    private static Sniffed tls(ByteBuffer b) {
        ByteBuffer handshake = ByteBuffer.allocate(b.remaining());
        boolean moreMayCome = true;
        int at = b.position();
        while (true) {
            if (b.limit() - at < 5) {
                break;
            }
            int major = b.get(at + 1) & 0xff;
            int recordLength = (b.get(at + 3) & 0xff) << 8 | (b.get(at + 4) & 0xff);
            boolean handshakeRecord = (b.get(at) & 0xff) == 0x16 && major == 3 && recordLength >= 1
                    && recordLength <= (1 << 14);
            if (!handshakeRecord) {
                if (at == b.position()) {
                    return new Sniffed.NoName("not a TLS handshake record");
                }
                moreMayCome = false;
                break;
            }
            int available = Math.min(recordLength, b.limit() - at - 5);
            handshake.put(b.duplicate().position(at + 5).limit(at + 5 + available));
            at += 5 + available;
            if (available < recordLength || helloIsWhole(handshake, handshake.position())) {
                break;
            }
        }
        handshake.flip();
        boolean whole = helloIsWhole(handshake, handshake.limit());
        try {
            return clientHello(whole ? handshake.limit(4 + (handshake.getInt(0) & 0xff_ffff)) : handshake);
        } catch (Underflow e) {
            if (whole) {
                return new Sniffed.NoName("ClientHello fields run past its length");
            }
            return moreMayCome ? new Sniffed.NeedMore()
                    : new Sniffed.NoName("ClientHello runs past its TLS records");
        }
    }

    /** Whether the first {@code filled} joined bytes hold a whole handshake message (type, 24-bit length, body). */
    private static boolean helloIsWhole(ByteBuffer handshake, int filled) {
        return filled >= 4 && filled >= 4 + (handshake.getInt(0) & 0xff_ffff);
    }

    private static Sniffed clientHello(ByteBuffer record) {
        if (record.remaining() < 4) {
            throw UNDERFLOW;
        }
        if ((record.get() & 0xff) != 1) {
            return new Sniffed.NoName("TLS handshake is not a ClientHello");
        }
        int helloLength = u24(record);
        int helloEnd = 4 + helloLength;
        skip(record, 2 + 32); // legacy_version, random
        skip(record, u8(record)); // legacy_session_id
        skip(record, u16(record)); // cipher_suites
        skip(record, u8(record)); // legacy_compression_methods
        if (record.position() >= helloEnd) {
            return new Sniffed.NoName("ClientHello without extensions");
        }
        int extensionsEnd = record.position() + 2 + u16(record);
        while (record.position() < extensionsEnd) {
            int type = u16(record);
            int length = u16(record);
            if (type != 0) {
                skip(record, length);
                continue;
            }
            int listEnd = record.position() + 2 + u16(record);
            while (record.position() < listEnd) {
                int nameType = u8(record);
                int nameLength = u16(record);
                byte[] name = new byte[nameLength];
                need(record, nameLength);
                record.get(name);
                if (nameType == 0) {
                    return name(new String(name, StandardCharsets.ISO_8859_1), Protocol.TLS_SNI);
                }
            }
            return new Sniffed.NoName("server_name without a host name");
        }
        return new Sniffed.NoName("ClientHello without server_name");
    }

    private static Sniffed http(ByteBuffer b) {
        int limit = Math.min(b.remaining(), MAX_BYTES);
        byte[] head = new byte[limit];
        b.get(head);
        String text = new String(head, StandardCharsets.ISO_8859_1);
        int space = text.indexOf(' ');
        if (space < 0) {
            return text.length() <= 16 && text.chars().allMatch(c -> c >= 'A' && c <= 'Z')
                    ? new Sniffed.NeedMore() : new Sniffed.NoName("not an HTTP request line");
        }
        if (space == 0 || space > 16 || !text.substring(0, space).chars().allMatch(c -> c >= 'A' && c <= 'Z')) {
            return new Sniffed.NoName("not an HTTP request line");
        }
        int lineEnd = text.indexOf("\r\n");
        if (lineEnd < 0) {
            return new Sniffed.NeedMore();
        }
        if (!text.substring(0, lineEnd).contains(" HTTP/1.")) {
            return new Sniffed.NoName("not an HTTP/1 request line");
        }
        int at = lineEnd + 2;
        while (true) {
            int end = text.indexOf("\r\n", at);
            if (end < 0) {
                return new Sniffed.NeedMore();
            }
            if (end == at) {
                return new Sniffed.NoName("HTTP request without a Host header");
            }
            String line = text.substring(at, end);
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase("host")) {
                return name(hostWithoutPort(line.substring(colon + 1).strip()), Protocol.HTTP_HOST);
            }
            at = end + 2;
        }
    }

    private static String hostWithoutPort(String value) {
        if (value.startsWith("[")) {
            return value; // an IPv6 literal: no name
        }
        int colon = value.lastIndexOf(':');
        return colon >= 0 && value.substring(colon + 1).chars().allMatch(Character::isDigit)
                ? value.substring(0, colon) : value;
    }

    private static Sniffed name(String raw, Protocol protocol) {
        if (!HOST_NAME.matcher(raw).matches()) {
            return new Sniffed.NoName(protocol + " is not a host name");
        }
        String host = raw.toLowerCase(Locale.ROOT);
        host = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (IPV4.matcher(host).matches()) {
            return new Sniffed.NoName(protocol + " is an IP address");
        }
        return new Sniffed.Found(host, protocol);
    }

    private static int u8(ByteBuffer b) {
        need(b, 1);
        return b.get() & 0xff;
    }

    private static int u16(ByteBuffer b) {
        need(b, 2);
        return b.getShort() & 0xffff;
    }

    private static int u24(ByteBuffer b) {
        need(b, 3);
        return (b.get() & 0xff) << 16 | (b.get() & 0xff) << 8 | (b.get() & 0xff);
    }

    private static void skip(ByteBuffer b, int n) {
        need(b, n);
        b.position(b.position() + n);
    }

    private static void need(ByteBuffer b, int n) {
        if (b.remaining() < n) {
            throw UNDERFLOW;
        }
    }

    private static final Underflow UNDERFLOW = new Underflow();

    private static final class Underflow extends RuntimeException {
        Underflow() {
            super("need more bytes", null, false, false);
        }
    }
}
