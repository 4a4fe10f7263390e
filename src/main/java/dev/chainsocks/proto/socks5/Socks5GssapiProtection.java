package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.ProtocolCode;
import java.util.Optional;

/**
 * The per-message protection a GSS-API SOCKS5 session asks for and agrees on: the one octet inside a
 * {@link Socks5GssapiMessageType#PROTECTION} message (RFC 1961 section 4.3). RFC 1961 defines 1..3; {@link #NONE}
 * (0) is the "clear" level Dante and other servers add, where the relayed stream is not wrapped at all.
 */
public enum Socks5GssapiProtection implements ProtocolCode {
    /** No per-message protection: the relayed stream goes as it is (Dante's {@code gssapi.enctype: clear}). */
    NONE(0x00),
    /** Every message is integrity protected (RFC 1961 level 1). */
    INTEGRITY(0x01),
    /** Every message is integrity and confidentiality protected (RFC 1961 level 2). */
    CONFIDENTIALITY(0x02),
    /** The protection is chosen per message (RFC 1961 level 3). */
    PER_MESSAGE(0x03);

    private static final Socks5GssapiProtection[] VALUES = values();

    private final byte value;

    Socks5GssapiProtection(int value) {
        this.value = (byte) value;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public static Optional<Socks5GssapiProtection> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    /** The label of a known level, e.g. {@code INTEGRITY(0x01)}, or {@code unknown(0x2a)}. */
    public static String describe(int value) {
        return ProtocolCode.describe(VALUES, value);
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
