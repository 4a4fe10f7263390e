package dev.chainsocks.proto.socks5;

import static dev.chainsocks.proto.ProtocolCode.hex;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.WireReader;
import java.nio.ByteBuffer;

/**
 * Encodes and decodes the messages of the SOCKS5 GSS-API method (RFC 1961), both sides:
 *
 * <pre>
 * token message  VER=1 MTYP(1 context token | 2 protection level | 3 encapsulated data) LEN(2) TOKEN
 * abort          VER=1 MTYP=0xff
 * </pre>
 *
 * Decoders follow the {@link Decoded} contract: a wrong version or an unknown MTYP is malformed as soon as the
 * byte arrives, so garbage is never buffered waiting for a length it announced.
 */
public final class Socks5GssapiCodec {

    /** The version byte of the GSS-API sub-negotiation, not of SOCKS. */
    public static final int VERSION = 0x01;

    private Socks5GssapiCodec() {
    }

    public static ByteBuffer encode(Socks5GssapiMessage message) {
        if (message.type() == Socks5GssapiMessageType.ABORT) {
            return ByteBuffer.allocate(2).put((byte) VERSION).put(message.type().byteValue()).flip();
        }
        byte[] token = message.token();
        return ByteBuffer.allocate(4 + token.length).put((byte) VERSION).put(message.type().byteValue())
                .putShort((short) token.length).put(token).flip();
    }

    public static Decoded<Socks5GssapiMessage> decode(ByteBuffer in) {
        return WireReader.decode(in, r -> {
            int version = r.u8();
            if (version != VERSION) {
                throw r.fail("SOCKS5 GSS-API message: version " + hex(version) + ", expected " + hex(VERSION));
            }
            int typeByte = r.u8();
            Socks5GssapiMessageType type = Socks5GssapiMessageType.fromByte(typeByte)
                    .orElseThrow(() -> r.fail("SOCKS5 GSS-API message: unknown MTYP " + hex(typeByte)));
            if (type == Socks5GssapiMessageType.ABORT) {
                return Socks5GssapiMessage.abort();
            }
            int length = r.u16();
            return new Socks5GssapiMessage(type, r.bytes(length));
        });
    }
}
