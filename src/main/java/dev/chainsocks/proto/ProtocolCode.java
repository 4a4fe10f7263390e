package dev.chainsocks.proto;

import java.util.Optional;

/**
 * A one-byte code of a proxy protocol (a command, an address type, a reply code, an authentication method).
 *
 * <p>Codes are enums; {@code toString()} reads {@code HOST_UNREACHABLE(0x04)} so a log line shows both the meaning
 * and the wire value. A byte that is not a known code has no enum constant, but it can still be named:
 * {@link #describe(ProtocolCode[], int)} gives {@code unknown(0x2a)} and {@link #hex(int)} gives {@code 0x2a}, so
 * errors always say which byte was wrong.
 */
public interface ProtocolCode {

    /** The value on the wire. */
    byte byteValue();

    /** The enum constant's name. */
    String name();

    /** {@code 0x2a}: one byte as two lower-case hex digits. */
    static String hex(int value) {
        return String.format("0x%02x", value & 0xff);
    }

    /** {@code NAME(0x2a)}, the {@code toString()} every code enum uses. */
    static String label(ProtocolCode code) {
        return code.name() + "(" + hex(code.byteValue()) + ")";
    }

    /** The code among {@code values} whose wire value is {@code value} (compared as an unsigned byte). */
    static <E extends ProtocolCode> Optional<E> find(E[] values, int value) {
        for (E code : values) {
            if ((code.byteValue() & 0xff) == (value & 0xff)) {
                return Optional.of(code);
            }
        }
        return Optional.empty();
    }

    /** The label of a known code, or {@code unknown(0x2a)}. */
    static <E extends ProtocolCode> String describe(E[] values, int value) {
        return find(values, value).map(ProtocolCode::label).orElseGet(() -> "unknown(" + hex(value) + ")");
    }
}
