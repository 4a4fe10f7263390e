package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.ProtocolCode;
import java.util.Optional;

/**
 * The STATUS of an RFC 1929 (section 2) username/password response: 0x00 is success, any other value is failure and
 * the client must close. Decoders map every non-zero byte to {@link #FAILURE}.
 */
public enum Socks5PasswordAuthStatus implements ProtocolCode {
    SUCCESS(0x00),
    FAILURE(0x01);

    private static final Socks5PasswordAuthStatus[] VALUES = values();

    private final byte value;

    Socks5PasswordAuthStatus(int value) {
        this.value = (byte) value;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public static Optional<Socks5PasswordAuthStatus> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    /** The label of a known code, e.g. {@code SUCCESS(0x00)}, or {@code unknown(0x2a)}. */
    public static String describe(int value) {
        return ProtocolCode.describe(VALUES, value);
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
