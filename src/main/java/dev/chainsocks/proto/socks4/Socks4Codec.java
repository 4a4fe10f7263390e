package dev.chainsocks.proto.socks4;

import static dev.chainsocks.proto.ProtocolCode.hex;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.WireReader;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Encodes and decodes the two SOCKS4/4a messages (the SOCKS4 and SOCKS4A protocol descriptions by Ying-Da Lee).
 *
 * <pre>
 * request: VN=0x04 CD DSTPORT(2) DSTIP(4) USERID NUL [HOST NUL  -- 4a, when DSTIP is 0.0.0.x, x != 0]
 * reply:   VN=0x00 CD DSTPORT(2) DSTIP(4)
 * </pre>
 *
 * Decoders follow the {@link Decoded} contract. The userid and the 4a host are capped at
 * {@value Socks4Request#MAX_USER_ID_BYTES} bytes: a stream with no NUL within the cap is malformed, so a decoder
 * never buffers without bound.
 */
public final class Socks4Codec {

    public static final int VERSION = 0x04;
    /** The reply's VN is 0, not 4. */
    public static final int REPLY_VERSION = 0x00;
    public static final int REPLY_LENGTH = 8;

    private static final byte[] SOCKS4A_MARKER = {0, 0, 0, 1};

    private Socks4Codec() {
    }

    public static ByteBuffer encodeRequest(Socks4Request request) {
        byte[] userId = request.userId().getBytes(StandardCharsets.UTF_8);
        byte[] host = request.destination() instanceof Destination.Name name
                ? name.host().getBytes(StandardCharsets.UTF_8)
                : null;
        ByteBuffer out = ByteBuffer.allocate(8 + userId.length + 1 + (host == null ? 0 : host.length + 1));
        out.put((byte) VERSION).put(request.command().byteValue()).putShort((short) request.destination().port());
        if (request.destination() instanceof Destination.Ip ip) {
            out.put(ip.address().getAddress());
        } else {
            out.put(SOCKS4A_MARKER);
        }
        out.put(userId).put((byte) 0);
        if (host != null) {
            out.put(host).put((byte) 0);
        }
        return out.flip();
    }

    public static Decoded<Socks4Request> decodeRequest(ByteBuffer in) {
        return WireReader.decode(in, Socks4Codec::readRequest);
    }

    public static ByteBuffer encodeReply(Socks4Reply reply) {
        return ByteBuffer.allocate(REPLY_LENGTH)
                .put((byte) REPLY_VERSION)
                .put(reply.code().byteValue())
                .putShort((short) reply.bound().port())
                .put(reply.bound().address().getAddress())
                .flip();
    }

    public static Decoded<Socks4Reply> decodeReply(ByteBuffer in) {
        return WireReader.decode(in, Socks4Codec::readReply);
    }

    private static Socks4Request readRequest(WireReader r) {
        int version = r.u8();
        if (version != VERSION) {
            throw r.fail("SOCKS4 request: unsupported version " + hex(version));
        }
        int commandByte = r.u8();
        Socks4Command command = Socks4Command.fromByte(commandByte)
                .orElseThrow(() -> r.fail("SOCKS4 request: unknown command " + hex(commandByte)));
        int port = r.u16();
        InetAddress ip = r.ipv4();
        String userId = r.utf8(r.untilNul(Socks4Request.MAX_USER_ID_BYTES, "SOCKS4 userid"), "SOCKS4 userid");
        if (!Socks4Request.isSocks4aMarker(ip.getAddress())) {
            return new Socks4Request(command, new Destination.Ip(ip, port), userId);
        }
        byte[] host = r.untilNul(Socks4Request.MAX_USER_ID_BYTES, "SOCKS4a host name");
        if (host.length == 0) {
            throw r.fail("SOCKS4a request: empty host name after DSTIP " + ip.getHostAddress());
        }
        return new Socks4Request(command, new Destination.Name(r.utf8(host, "SOCKS4a host name"), port), userId);
    }

    private static Socks4Reply readReply(WireReader r) {
        int version = r.u8();
        if (version != REPLY_VERSION) {
            throw r.fail("SOCKS4 reply: version " + hex(version) + ", expected 0x00");
        }
        int codeByte = r.u8();
        Socks4ReplyCode code = Socks4ReplyCode.fromByte(codeByte)
                .orElseThrow(() -> r.fail("SOCKS4 reply: unknown reply code " + hex(codeByte)));
        int port = r.u16();
        return new Socks4Reply(code, new Destination.Ip(r.ipv4(), port));
    }
}
