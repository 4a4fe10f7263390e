package dev.chainsocks.proto.socks4;

import dev.chainsocks.proto.ProtocolCode;
import java.util.Optional;

/** The CD field of a SOCKS4 request (SOCKS4 protocol description, "CONNECT" and "BIND"). */
public enum Socks4Command implements ProtocolCode {
    CONNECT(0x01),
    BIND(0x02);

    private static final Socks4Command[] VALUES = values();

    private final byte value;

    Socks4Command(int value) {
        this.value = (byte) value;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public static Optional<Socks4Command> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    /** {@code CONNECT(0x01)}, or {@code unknown(0x09)} for a byte that is no command. */
    public static String describe(int value) {
        return ProtocolCode.describe(VALUES, value);
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
