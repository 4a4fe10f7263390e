package dev.chainsocks.proto.ident;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.WireReader;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;

/**
 * Reads and writes RFC 1413 lines: the query {@code "<port> , <port>\r\n"} and the responses
 * {@code "<port> , <port> : USERID : <opsys>[ , <charset>] : <user id>\r\n"} and
 * {@code "<port> , <port> : ERROR : <type>\r\n"}.
 *
 * <p>What it accepts follows the RFC's "liberal in what you accept": spaces and tabs anywhere between tokens and at
 * the ends of a line, a bare LF as well as CR LF, ports of 1 to 5 digits, tokens of 1 to 64 characters with
 * {@code \} quoting a following character. The user id is everything after the colon that follows the opsys field
 * up to the end of the line (the RFC), except that leading white space is dropped: the RFC's own example,
 * {@code "6193, 23 : USERID : UNIX : stjohns"}, puts a space there that is not part of the name. It is decoded with
 * the charset the response names (US-ASCII when none): bytes that charset cannot read, or a charset this JVM does not
 * know, make the response malformed, never a replacement character that might match a user by accident. A line
 * longer than {@link #MAX_LINE} bytes without an end of line is malformed (the RFC lets a client give up after
 * 1000), so nothing is buffered without bound. What it writes is the plainest form: one space around separators,
 * CR LF.
 */
public final class IdentCodec {

    /** A line, its end of line included, is at most this long. */
    public static final int MAX_LINE = 1000;
    /** The longest opsys, charset or error-type token. */
    public static final int MAX_TOKEN = 64;

    private IdentCodec() {
    }

    public static ByteBuffer encodeQuery(IdentQuery query) {
        return ascii(query.portOnServer() + " , " + query.portOnClient() + "\r\n");
    }

    public static Decoded<IdentQuery> decodeQuery(ByteBuffer in) {
        return WireReader.decode(in, reader -> {
            LineCursor line = new LineCursor(reader, line(reader, "ident query"), "ident query");
            IdentQuery query = line.portPair();
            line.skipSpace();
            line.expectEnd();
            return query;
        });
    }

    public static ByteBuffer encodeResponse(IdentResponse response) {
        StringBuilder head = new StringBuilder().append(response.ports()).append(" : ");
        byte[] userId = new byte[0];
        if (response instanceof IdentResponse.UserId named) {
            head.append("USERID : ").append(quote(named.opsys()));
            if (named.charset() != null) {
                head.append(" , ").append(quote(named.charset()));
            }
            head.append(" : ");
            Charset charset = charset(named.charset());
            if (charset == null) {
                throw new IllegalArgumentException("charset " + named.charset() + " is not known to this JVM");
            }
            userId = named.userId().getBytes(charset);
            if (userId.length > IdentResponse.UserId.MAX_USER_ID_BYTES) {
                throw new IllegalArgumentException("ident user id is " + userId.length + " bytes, at most "
                        + IdentResponse.UserId.MAX_USER_ID_BYTES + " may be sent");
            }
        } else if (response instanceof IdentResponse.Error error) {
            head.append("ERROR : ").append(quote(error.type()));
        }
        byte[] start = head.toString().getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(start.length + userId.length + 2).put(start).put(userId).put((byte) '\r')
                .put((byte) '\n').flip();
    }

    public static Decoded<IdentResponse> decodeResponse(ByteBuffer in) {
        return WireReader.decode(in, reader -> {
            LineCursor line = new LineCursor(reader, line(reader, "ident response"), "ident response");
            IdentQuery ports = line.portPair();
            line.skipSpace();
            line.expect(':');
            line.skipSpace();
            String kind = line.token("response type");
            line.skipSpace();
            line.expect(':');
            line.skipSpace();
            switch (kind) {
                case "ERROR" -> {
                    String type = line.token("error type");
                    line.skipSpace();
                    line.expectEnd();
                    return new IdentResponse.Error(ports, type);
                }
                case "USERID" -> {
                    String opsys = line.token("opsys");
                    line.skipSpace();
                    String charset = null;
                    if (line.peek() == ',') {
                        line.expect(',');
                        line.skipSpace();
                        charset = line.token("charset");
                        line.skipSpace();
                    }
                    line.expect(':');
                    line.skipSpace();
                    byte[] raw = line.rest();
                    if (raw.length == 0) {
                        throw reader.fail("ident response: empty user id");
                    }
                    for (byte b : raw) {
                        if (b == 0 || b == '\r') {
                            throw reader.fail(String.format("ident response: user id contains 0x%02x", b & 0xff));
                        }
                    }
                    return new IdentResponse.UserId(ports, opsys, charset, decodeUserId(reader, raw, charset));
                }
                default -> throw reader.fail("ident response: type \"" + kind + "\" is neither USERID nor ERROR");
            }
        });
    }

    /** Validates a token for the wire: 1 to 64 printable US-ASCII characters (quoted as needed when written). */
    static void checkToken(String token, String field) {
        if (token == null || token.isEmpty() || token.length() > MAX_TOKEN) {
            throw new IllegalArgumentException("ident " + field + " must be 1.." + MAX_TOKEN + " characters: "
                    + token);
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                throw new IllegalArgumentException("ident " + field + " must be printable US-ASCII: " + token);
            }
        }
    }

    private static String quote(String token) {
        StringBuilder quoted = new StringBuilder();
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == ':' || c == ',' || c == ' ' || c == '\\') {
                quoted.append('\\');
            }
            quoted.append(c);
        }
        return quoted.toString();
    }

    private static String decodeUserId(WireReader reader, byte[] raw, String charsetName) {
        Charset charset = charset(charsetName);
        if (charset == null) {
            throw reader.fail("ident response: charset \"" + charsetName + "\" is not known here");
        }
        try {
            return charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw reader.fail("ident response: user id is not valid " + charset.name());
        }
    }

    /** The named charset, US-ASCII for null, or null when the JVM does not know the name. */
    private static Charset charset(String name) {
        if (name == null) {
            return StandardCharsets.US_ASCII;
        }
        try {
            return Charset.isSupported(name) ? Charset.forName(name) : null;
        } catch (IllegalCharsetNameException e) {
            return null;
        }
    }

    private static ByteBuffer ascii(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
    }

    /** The bytes of one line without its LF or the CR before it; more than MAX_LINE bytes without LF is malformed. */
    private static byte[] line(WireReader reader, String what) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int i = 0; i < MAX_LINE; i++) {
            int b = reader.u8();
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return java.util.Arrays.copyOf(bytes, length);
            }
            line.write(b);
        }
        throw reader.fail(what + ": no end of line within " + MAX_LINE + " bytes");
    }

    /** A cursor over one line's bytes; every problem is a {@link Decoded.Malformed} naming the field. */
    private static final class LineCursor {
        private final WireReader reader;
        private final byte[] line;
        private final String what;
        private int at;

        LineCursor(WireReader reader, byte[] line, String what) {
            this.reader = reader;
            this.line = line;
            this.what = what;
        }

        int peek() {
            return at < line.length ? line[at] & 0xff : -1;
        }

        void skipSpace() {
            while (peek() == ' ' || peek() == '\t') {
                at++;
            }
        }

        void expect(char c) {
            if (peek() != c) {
                throw reader.fail(what + ": expected '" + c + "' at byte " + at + ", found " + found());
            }
            at++;
        }

        void expectEnd() {
            if (at != line.length) {
                throw reader.fail(what + ": unexpected " + found() + " at byte " + at);
            }
        }

        IdentQuery portPair() {
            skipSpace();
            int onServer = port("port on the identd host");
            skipSpace();
            expect(',');
            skipSpace();
            int onClient = port("port on the asking host");
            return new IdentQuery(onServer, onClient);
        }

        private int port(String field) {
            int start = at;
            int value = 0;
            while (peek() >= '0' && peek() <= '9') {
                if (at - start == 5) {
                    throw reader.fail(what + ": " + field + " has more than 5 digits");
                }
                value = value * 10 + (peek() - '0');
                at++;
            }
            if (at == start) {
                throw reader.fail(what + ": " + field + " expected at byte " + start + ", found " + found());
            }
            if (value < 1 || value > 65535) {
                throw reader.fail(what + ": " + field + " " + value + " is not 1..65535");
            }
            return value;
        }

        /** 1..64 token characters: printable US-ASCII but ':' and ','; a backslash quotes the next character. */
        String token(String field) {
            StringBuilder token = new StringBuilder();
            while (true) {
                int c = peek();
                if (c == '\\' && at + 1 < line.length && (line[at + 1] & 0xff) >= 0x20 && (line[at + 1] & 0xff) <= 0x7e) {
                    token.append((char) line[at + 1]);
                    at += 2;
                } else if (c > 0x20 && c <= 0x7e && c != ':' && c != ',' && c != '\\') {
                    token.append((char) c);
                    at++;
                } else {
                    break;
                }
                if (token.length() > MAX_TOKEN) {
                    throw reader.fail(what + ": " + field + " longer than " + MAX_TOKEN + " characters");
                }
            }
            if (token.length() == 0) {
                throw reader.fail(what + ": " + field + " expected at byte " + at + ", found " + found());
            }
            return token.toString();
        }

        byte[] rest() {
            byte[] rest = java.util.Arrays.copyOfRange(line, at, line.length);
            at = line.length;
            return rest;
        }

        private String found() {
            return at < line.length ? String.format("0x%02x", line[at] & 0xff) : "the end of the line";
        }
    }
}
