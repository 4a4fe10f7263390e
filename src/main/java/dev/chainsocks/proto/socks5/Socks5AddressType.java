package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.ProtocolCode;
import java.util.Optional;

/** The ATYP field of SOCKS5 addresses (RFC 1928 section 5): in requests, replies and UDP datagram headers. */
public enum Socks5AddressType implements ProtocolCode {
    /** 4 bytes. */
    IPV4(0x01),
    /** One length byte (1..255), then the name; no NUL terminator. */
    DOMAIN(0x03),
    /** 16 bytes. */
    IPV6(0x04);

    private static final Socks5AddressType[] VALUES = values();

    private final byte value;

    Socks5AddressType(int value) {
        this.value = (byte) value;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public static Optional<Socks5AddressType> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    /** The label of a known code, e.g. {@code IPV4(0x01)}, or {@code unknown(0x2a)}. */
    public static String describe(int value) {
        return ProtocolCode.describe(VALUES, value);
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
