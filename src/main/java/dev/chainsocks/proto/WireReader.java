package dev.chainsocks.proto;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * A read cursor for decoding one binary message, used by the SOCKS codecs to keep the {@link Decoded} contract.
 *
 * <p>A parser reads fields in wire order ({@link #u8()}, {@link #u16()}, ...) and validates each one right after
 * reading it. Running out of bytes unwinds the parser and yields {@link Decoded.NeedMore}; {@link #fail} yields
 * {@link Decoded.Malformed}. The cursor keeps its own index into the input and reads it with absolute gets, so the
 * caller's buffer moves only when a whole message was parsed, and then by exactly that message's length.
 * Multi-byte integers are big-endian (network order), as in every SOCKS message, whatever the buffer's byte order.
 */
public final class WireReader {

    private static final Underflow UNDERFLOW = new Underflow();

    private final ByteBuffer in;
    /** The next byte to read; {@code in}'s own position stays where the message starts until it is whole. */
    private int position;

    private WireReader(ByteBuffer in) {
        this.in = in;
        this.position = in.position();
    }

    /** Runs {@code parser} over the bytes of {@code in}; see {@link Decoded} for what happens to the position. */
    public static <T> Decoded<T> decode(ByteBuffer in, Function<WireReader, T> parser) {
        if (!in.hasRemaining()) {
            // Every message has at least one byte. A handshake asks again each time it has consumed a message,
            // and unwinding a parser, even with a stackless exception, costs more than this test.
            return new Decoded.NeedMore<>();
        }
        WireReader reader = new WireReader(in);
        try {
            T message = parser.apply(reader);
            in.position(reader.position);
            return new Decoded.Message<>(message);
        } catch (Underflow e) {
            return new Decoded.NeedMore<>();
        } catch (Failure e) {
            return new Decoded.Malformed<>(e.getMessage(), e.fault);
        }
    }

    /** One unsigned byte. */
    public int u8() {
        require(1);
        return in.get(position++) & 0xff;
    }

    /** One unsigned big-endian 16-bit integer (a port). */
    public int u16() {
        require(2);
        int value = (in.get(position) & 0xff) << 8 | in.get(position + 1) & 0xff;
        position += 2;
        return value;
    }

    public byte[] bytes(int length) {
        require(length);
        byte[] bytes = new byte[length];
        in.get(position, bytes);
        position += length;
        return bytes;
    }

    /** Everything left in the buffer (the payload of a datagram). */
    public byte[] rest() {
        return bytes(in.limit() - position);
    }

    public InetAddress ipv4() {
        return address(bytes(4));
    }

    public InetAddress ipv6() {
        return address(bytes(16));
    }

    /**
     * The bytes up to a NUL terminator, which is consumed too. If {@code maxLength} bytes have arrived and none of
     * them nor the next is a NUL, the field is malformed: the decoder never waits for an unbounded string.
     */
    public byte[] untilNul(int maxLength, String field) {
        int start = position;
        for (int i = 0; i <= maxLength; i++) {
            if (start + i >= in.limit()) {
                throw UNDERFLOW;
            }
            if (in.get(start + i) == 0) {
                byte[] bytes = bytes(i);
                position++; // the NUL
                return bytes;
            }
        }
        throw fail(field + " longer than " + maxLength + " bytes without a NUL terminator");
    }

    /** Decodes strict UTF-8 (US-ASCII included); invalid sequences are a malformed field, not replacement chars. */
    public String utf8(byte[] bytes, String field) {
        if (isAscii(bytes)) {
            return new String(bytes, StandardCharsets.US_ASCII); // the usual host name or user: no decoder needed
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw fail(field + " is not valid UTF-8");
        }
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    /** The exception to throw from a parser for bytes that break the protocol; a server answers GENERAL_FAILURE. */
    public RuntimeException fail(String reason) {
        return new Failure(reason, ReplyStatus.GENERAL_FAILURE);
    }

    /** As {@link #fail(String)}, naming the reply a server should give. */
    public RuntimeException fail(String reason, ReplyStatus fault) {
        return new Failure(reason, fault);
    }

    private void require(int length) {
        if (in.limit() - position < length) {
            throw UNDERFLOW;
        }
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes); // a literal: no name lookup
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    /** Control flow, not an error: the message continues beyond the buffer. Shared, stackless. */
    private static final class Underflow extends RuntimeException {
        Underflow() {
            super("need more bytes", null, false, false);
        }
    }

    private static final class Failure extends RuntimeException {
        final ReplyStatus fault;

        Failure(String reason, ReplyStatus fault) {
            super(reason, null, false, false);
            this.fault = fault;
        }
    }
}
