package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.ProtocolCode;
import java.util.Optional;

/**
 * A SOCKS5 authentication method (RFC 1928 section 3). A greeting may offer bytes that are not listed here
 * (IANA-assigned 0x03..0x7f, private 0x80..0xfe); they are kept as raw bytes in {@link Socks5Greeting} and named
 * with {@link #describe(int)}.
 */
public enum Socks5AuthMethod implements ProtocolCode {
    NO_AUTHENTICATION(0x00),
    /** RFC 1961; offered by some clients, never selected by chainsocks. */
    GSSAPI(0x01),
    /** RFC 1929. */
    USERNAME_PASSWORD(0x02),
    /** The server's answer when it accepts none of the offered methods; the client must close. */
    NO_ACCEPTABLE_METHODS(0xff);

    private static final Socks5AuthMethod[] VALUES = values();

    private final byte value;

    Socks5AuthMethod(int value) {
        this.value = (byte) value;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public static Optional<Socks5AuthMethod> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    /** The label of a known code, e.g. {@code NO_AUTHENTICATION(0x00)}, or {@code unknown(0x2a)}. */
    public static String describe(int value) {
        return ProtocolCode.describe(VALUES, value);
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
