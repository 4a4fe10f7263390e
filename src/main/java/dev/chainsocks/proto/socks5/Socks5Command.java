package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.ProtocolCode;
import java.util.Optional;

/** The CMD field of a SOCKS5 request (RFC 1928 section 4). */
public enum Socks5Command implements ProtocolCode {
    CONNECT(0x01),
    BIND(0x02),
    UDP_ASSOCIATE(0x03);

    private static final Socks5Command[] VALUES = values();

    private final byte value;

    Socks5Command(int value) {
        this.value = (byte) value;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public static Optional<Socks5Command> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    /** The label of a known code, e.g. {@code CONNECT(0x01)}, or {@code unknown(0x2a)}. */
    public static String describe(int value) {
        return ProtocolCode.describe(VALUES, value);
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
