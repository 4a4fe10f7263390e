package dev.chainsocks.proto.http;

import static dev.chainsocks.proto.ProtocolCode.hex;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.ReplyStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes HTTP/1.x message heads (RFC 9112): start line, header fields, empty line. Bodies are not
 * this codec's business: decoding consumes exactly the head, leaving a body or tunnelled bytes in the buffer.
 *
 * <p>Lines end in CRLF or a bare LF (RFC 9112 section 2.2 lets a recipient accept LF); encoding always writes CRLF.
 * A head is at most {@value #MAX_HEAD_BYTES} bytes: past that without an empty line it is malformed, so a
 * peer cannot make us buffer without bound. Other malformations, each named in the reason: a control byte (named
 * in hex) anywhere but as line end or HTAB, a bare CR, obs-fold continuation lines, whitespace before a header
 * colon (section 5.1), a start line that is not {@code METHOD SP target SP HTTP/1.x} or {@code HTTP/1.x SP 3DIGIT
 * [SP reason]}. Bytes are ISO-8859-1, so a head decodes and re-encodes byte for byte.
 */
public final class HttpCodec {

    public static final int MAX_HEAD_BYTES = 16 * 1024;

    private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";
    private static final byte[] RESPONSE_PREFIX = "HTTP/".getBytes(StandardCharsets.US_ASCII);

    private HttpCodec() {
    }

    public static ByteBuffer encodeRequestHead(HttpRequestHead head) {
        return encode(head.method() + " " + head.target() + " " + head.version(), head.headers());
    }

    public static ByteBuffer encodeResponseHead(HttpResponseHead head) {
        return encode(head.version() + " " + head.status() + " " + head.reason(), head.headers());
    }

    public static Decoded<HttpRequestHead> decodeRequestHead(ByteBuffer in) {
        return decode(in, "HTTP request", true);
    }

    public static Decoded<HttpResponseHead> decodeResponseHead(ByteBuffer in) {
        return decode(in, "HTTP response", false);
    }

    private static ByteBuffer encode(String startLine, List<HttpHeader> headers) {
        StringBuilder text = new StringBuilder(startLine).append("\r\n");
        for (HttpHeader header : headers) {
            text.append(header.name()).append(": ").append(header.value()).append("\r\n");
        }
        return ByteBuffer.wrap(text.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    @SuppressWarnings("unchecked")
    private static <T> Decoded<T> decode(ByteBuffer in, String message, boolean request) {
        String early = request ? checkMethodPrefix(in) : checkResponsePrefix(in);
        if (early != null) {
            return malformed(message + ": " + early);
        }
        int length = headLength(in);
        if (length < 0) {
            return in.remaining() >= MAX_HEAD_BYTES
                    ? malformed(message + ": header block exceeds " + MAX_HEAD_BYTES + " bytes")
                    : new Decoded.NeedMore<>();
        }
        byte[] bytes = new byte[length];
        in.duplicate().get(bytes);
        try {
            List<String> lines = lines(bytes);
            List<HttpHeader> headers = headers(lines);
            Object head = request ? requestHead(lines.get(0), headers) : responseHead(lines.get(0), headers);
            in.position(in.position() + length);
            return new Decoded.Message<>((T) head);
        } catch (IllegalArgumentException e) {
            return malformed(message + ": " + e.getMessage());
        }
    }

    /** The length of the head including its empty line, or -1 if the empty line is not within the cap yet. */
    private static int headLength(ByteBuffer in) {
        int start = in.position();
        int end = Math.min(in.limit(), start + MAX_HEAD_BYTES);
        int lineStart = start;
        for (int i = start; i < end; i++) {
            if (in.get(i) == '\n') {
                int lineLength = i - lineStart;
                if (lineLength == 0 || (lineLength == 1 && in.get(i - 1) == '\r')) {
                    return i + 1 - start;
                }
                lineStart = i + 1;
            }
        }
        return -1;
    }

    /** Splits at LF, drops the CR of CRLF; the start line first, then header lines, without the empty line. */
    private static List<String> lines(byte[] head) {
        String text = new String(head, StandardCharsets.ISO_8859_1);
        List<String> lines = new ArrayList<>();
        int lineStart = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                int lineEnd = i > lineStart && text.charAt(i - 1) == '\r' ? i - 1 : i;
                lines.add(text.substring(lineStart, lineEnd));
                lineStart = i + 1;
            } else if (c == '\r' && (i + 1 >= text.length() || text.charAt(i + 1) != '\n')) {
                throw new IllegalArgumentException("bare CR (0x0d) inside line " + (lines.size() + 1));
            } else if (c != '\r' && c != '\t' && (c < 0x20 || c == 0x7f)) {
                throw new IllegalArgumentException("control byte " + hex(c) + " in line " + (lines.size() + 1));
            }
        }
        lines.remove(lines.size() - 1); // the empty line
        if (lines.isEmpty() || lines.get(0).isEmpty()) {
            throw new IllegalArgumentException("empty start line");
        }
        return lines;
    }

    private static List<HttpHeader> headers(List<String> lines) {
        List<HttpHeader> headers = new ArrayList<>(lines.size() - 1);
        for (String line : lines.subList(1, lines.size())) {
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                throw new IllegalArgumentException("obsolete line folding: \"" + abbreviate(line) + "\"");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("header line without a name and colon: \"" + abbreviate(line) + "\"");
            }
            String name = line.substring(0, colon);
            if (!isToken(name)) {
                throw new IllegalArgumentException("header name is not a token: \"" + abbreviate(name) + "\"");
            }
            headers.add(new HttpHeader(name, line.substring(colon + 1).strip()));
        }
        return headers;
    }

    private static HttpRequestHead requestHead(String line, List<HttpHeader> headers) {
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !isToken(parts[0]) || parts[1].isEmpty() || !isVersion(parts[2])) {
            throw new IllegalArgumentException("malformed request line \"" + abbreviate(line) + "\"");
        }
        return new HttpRequestHead(parts[0], parts[1], parts[2], headers);
    }

    private static HttpResponseHead responseHead(String line, List<HttpHeader> headers) {
        // HTTP-version SP 3DIGIT SP [reason]; some servers omit the SP before an empty reason
        boolean wellFormed = line.length() >= 12 && isVersion(line.substring(0, 8)) && line.charAt(8) == ' '
                && Character.isDigit(line.charAt(9)) && Character.isDigit(line.charAt(10))
                && Character.isDigit(line.charAt(11)) && (line.length() == 12 || line.charAt(12) == ' ');
        if (!wellFormed) {
            throw new IllegalArgumentException("malformed status line \"" + abbreviate(line) + "\"");
        }
        int status = Integer.parseInt(line.substring(9, 12));
        if (status < 100) {
            throw new IllegalArgumentException("malformed status line \"" + abbreviate(line) + "\"");
        }
        String reason = line.length() > 13 ? line.substring(13) : "";
        return new HttpResponseHead(line.substring(0, 8), status, reason, headers);
    }

    /** A response must start with "HTTP/": refuse a non-HTTP answer at its first byte, not after 16 KiB. */
    private static String checkResponsePrefix(ByteBuffer in) {
        for (int i = 0; i < RESPONSE_PREFIX.length && in.position() + i < in.limit(); i++) {
            byte b = in.get(in.position() + i);
            if (b != RESPONSE_PREFIX[i]) {
                return "expected \"HTTP/\", got byte " + hex(b) + " at offset " + i;
            }
        }
        return null;
    }

    /** A request starts with a method token and a space: refuse other bytes as soon as they arrive. */
    private static String checkMethodPrefix(ByteBuffer in) {
        for (int i = in.position(); i < in.limit(); i++) {
            byte b = in.get(i);
            if (b == ' ' && i > in.position()) {
                return null;
            }
            if (!isTokenChar((char) (b & 0xff))) {
                return "byte " + hex(b) + " at offset " + (i - in.position()) + " is not part of a method name";
            }
        }
        return null;
    }

    private static <T> Decoded<T> malformed(String reason) {
        return new Decoded.Malformed<>(reason, ReplyStatus.GENERAL_FAILURE);
    }

    static boolean isToken(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (!isTokenChar(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isTokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || TOKEN_SYMBOLS.indexOf(c) >= 0;
    }

    static boolean isVersion(String text) {
        return text.length() == 8 && text.startsWith("HTTP/1.") && Character.isDigit(text.charAt(7));
    }

    /** Index of the first control character other than HTAB (0x00..0x1f, 0x7f), or -1. */
    static int firstControlCharacter(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return i;
            }
        }
        return -1;
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "...";
    }
}
