package dev.chainsocks.proto.dns;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.ReplyStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes {@link DnsMessage}s (RFC 1035 section 4), and the two-byte length prefix of DNS over TCP
 * (section 4.2.2). Sans-I/O, with the {@link Decoded} contract of the other codecs.
 *
 * <p>The decoder follows compression pointers (backwards only, so it cannot loop) and bounds every count by the
 * bytes actually present; the encoder writes names uncompressed, which every resolver reads.
 */
public final class DnsCodec {

    /** The header's size. */
    public static final int HEADER = 12;
    /** The most bytes in one message (the TCP length prefix's range). */
    public static final int MAX_MESSAGE = 0xffff;
    /** The UDP payload every resolver accepts without EDNS (RFC 1035 section 4.2.1). */
    public static final int CLASSIC_UDP_PAYLOAD = 512;

    private DnsCodec() {
    }

    /**
     * Decodes the message that starts at {@code in}'s position. For a datagram, {@link Decoded.NeedMore} means the
     * datagram was cut short.
     */
    public static Decoded<DnsMessage> decode(ByteBuffer in) {
        Cursor cursor = new Cursor(in.duplicate());
        try {
            DnsMessage message = cursor.message();
            in.position(cursor.in.position());
            return new Decoded.Message<>(message);
        } catch (Underflow e) {
            return new Decoded.NeedMore<>();
        } catch (Malformed e) {
            return new Decoded.Malformed<>("DNS message: " + e.getMessage(), ReplyStatus.GENERAL_FAILURE);
        }
    }

    /** Encodes a message, uncompressed, ready to send as one datagram; position 0, limit its length. */
    public static ByteBuffer encode(DnsMessage message) {
        int length = HEADER;
        for (DnsQuestion q : message.questions()) {
            length += DnsName.wireLength(q.name()) + 4;
        }
        for (List<DnsRecord> section : List.of(message.answers(), message.authorities(), message.additionals())) {
            for (DnsRecord r : section) {
                length += DnsName.wireLength(r.name()) + 10 + r.data().length;
            }
        }
        if (length > MAX_MESSAGE) {
            throw new IllegalArgumentException("DNS message of " + length + " bytes is over " + MAX_MESSAGE);
        }
        ByteBuffer out = ByteBuffer.allocate(length);
        out.putShort((short) message.id()).putShort((short) message.flags());
        out.putShort((short) message.questions().size()).putShort((short) message.answers().size());
        out.putShort((short) message.authorities().size()).putShort((short) message.additionals().size());
        for (DnsQuestion q : message.questions()) {
            putName(out, q.name());
            out.putShort((short) q.type()).putShort((short) q.dnsClass());
        }
        for (List<DnsRecord> section : List.of(message.answers(), message.authorities(), message.additionals())) {
            for (DnsRecord r : section) {
                putName(out, r.name());
                byte[] data = r.data();
                out.putShort((short) r.type()).putShort((short) r.dnsClass()).putInt((int) r.ttl());
                out.putShort((short) data.length).put(data);
            }
        }
        return out.flip();
    }

    /**
     * Reads one length-prefixed message of DNS over TCP: the message's bytes (a new buffer), or NeedMore; a zero
     * length is malformed. The buffer moves past the prefix and the message only when both are complete.
     */
    public static Decoded<ByteBuffer> unframe(ByteBuffer in) {
        if (in.remaining() < 2) {
            return new Decoded.NeedMore<>();
        }
        int length = in.getShort(in.position()) & 0xffff;
        if (length < HEADER) {
            return new Decoded.Malformed<>("DNS over TCP: message length " + length + " is shorter than a header",
                    ReplyStatus.GENERAL_FAILURE);
        }
        if (in.remaining() < 2 + length) {
            return new Decoded.NeedMore<>();
        }
        ByteBuffer message = ByteBuffer.allocate(length);
        ByteBuffer view = in.duplicate();
        view.position(in.position() + 2).limit(in.position() + 2 + length);
        message.put(view).flip();
        in.position(in.position() + 2 + length);
        return new Decoded.Message<>(message);
    }

    /** The message's remaining bytes with the two-byte length in front, for DNS over TCP. */
    public static ByteBuffer frame(ByteBuffer message) {
        int length = message.remaining();
        if (length > MAX_MESSAGE) {
            throw new IllegalArgumentException("DNS message of " + length + " bytes is over " + MAX_MESSAGE);
        }
        ByteBuffer out = ByteBuffer.allocate(2 + length);
        out.putShort((short) length).put(message.duplicate());
        return out.flip();
    }

    private static void putName(ByteBuffer out, String name) {
        if (!name.isEmpty()) {
            for (String label : name.split("\\.")) {
                byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                out.put((byte) bytes.length).put(bytes);
            }
        }
        out.put((byte) 0);
    }

    private static final class Cursor {
        final ByteBuffer in;
        final int start;

        Cursor(ByteBuffer in) {
            this.in = in;
            this.start = in.position();
        }

        DnsMessage message() {
            int id = u16();
            int flags = u16();
            int qd = u16();
            int an = u16();
            int ns = u16();
            int ar = u16();
            List<DnsQuestion> questions = new ArrayList<>(Math.min(qd, 16));
            for (int i = 0; i < qd; i++) {
                String name = name("question " + (i + 1));
                int type = u16();
                int dnsClass = u16();
                questions.add(new DnsQuestion(name, type, dnsClass));
            }
            return new DnsMessage(id, flags, questions, records(an, "answer"), records(ns, "authority"),
                    records(ar, "additional"));
        }

        List<DnsRecord> records(int count, String section) {
            List<DnsRecord> records = new ArrayList<>(Math.min(count, 16));
            for (int i = 0; i < count; i++) {
                String where = section + " " + (i + 1);
                String name = name(where);
                int type = u16();
                int dnsClass = u16();
                long ttl = u16() << 16 | u16();
                int length = u16();
                require(length);
                byte[] data = new byte[length];
                in.get(data);
                records.add(new DnsRecord(name, type, dnsClass, ttl & 0xffff_ffffL, data));
            }
            return records;
        }

        /** A name at the cursor, following compression pointers; the cursor ends after its first part. */
        String name(String where) {
            StringBuilder name = new StringBuilder();
            int position = in.position();
            int resume = -1;
            int wire = 0;
            while (true) {
                if (position >= in.limit()) {
                    throw UNDERFLOW_INSTANCE;
                }
                int length = in.get(position) & 0xff;
                if ((length & 0xc0) == 0xc0) {
                    if (position + 1 >= in.limit()) {
                        throw UNDERFLOW_INSTANCE;
                    }
                    int target = start + (((length & 0x3f) << 8) | (in.get(position + 1) & 0xff));
                    if (resume < 0) {
                        resume = position + 2;
                    }
                    if (target >= position) {
                        throw new Malformed(where + ": compression pointer to offset " + (target - start)
                                + " does not point backwards");
                    }
                    position = target;
                    continue;
                }
                if ((length & 0xc0) != 0) {
                    throw new Malformed(where + ": label type " + String.format("0x%02x", length & 0xc0)
                            + " is not supported");
                }
                wire += length + 1;
                if (wire > DnsName.MAX_WIRE_LENGTH) {
                    throw new Malformed(where + ": name longer than " + DnsName.MAX_WIRE_LENGTH + " bytes");
                }
                if (length == 0) {
                    in.position(resume >= 0 ? resume : position + 1);
                    return name.toString();
                }
                if (position + 1 + length > in.limit()) {
                    throw UNDERFLOW_INSTANCE;
                }
                if (name.length() > 0) {
                    name.append('.');
                }
                for (int i = 1; i <= length; i++) {
                    int c = in.get(position + i) & 0xff;
                    if (!DnsName.printable(c)) {
                        throw new Malformed(where + ": byte " + String.format("0x%02x", c)
                                + " in a label (only printable US-ASCII other than '.' is accepted)");
                    }
                    name.append((char) c);
                }
                position += 1 + length;
            }
        }

        int u16() {
            require(2);
            return in.getShort() & 0xffff;
        }

        void require(int n) {
            if (in.remaining() < n) {
                throw UNDERFLOW_INSTANCE;
            }
        }
    }

    private static final Underflow UNDERFLOW_INSTANCE = new Underflow();

    private static final class Underflow extends RuntimeException {
        Underflow() {
            super("need more bytes", null, false, false);
        }
    }

    private static final class Malformed extends RuntimeException {
        Malformed(String reason) {
            super(reason, null, false, false);
        }
    }
}
