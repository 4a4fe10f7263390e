package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.ProtocolCode;
import dev.chainsocks.proto.ReplyStatus;
import java.util.Optional;

/**
 * The REP field of a SOCKS5 reply (RFC 1928 section 6), 0x00..0x08; 0x09..0xff are unassigned and a decoder
 * reports them as malformed, naming the byte. Maps one to one to the protocol-neutral {@link ReplyStatus}.
 */
public enum Socks5ReplyCode implements ProtocolCode {
    SUCCEEDED(0x00, ReplyStatus.SUCCEEDED),
    GENERAL_FAILURE(0x01, ReplyStatus.GENERAL_FAILURE),
    NOT_ALLOWED_BY_RULESET(0x02, ReplyStatus.NOT_ALLOWED_BY_RULESET),
    NETWORK_UNREACHABLE(0x03, ReplyStatus.NETWORK_UNREACHABLE),
    HOST_UNREACHABLE(0x04, ReplyStatus.HOST_UNREACHABLE),
    CONNECTION_REFUSED(0x05, ReplyStatus.CONNECTION_REFUSED),
    TTL_EXPIRED(0x06, ReplyStatus.TTL_EXPIRED),
    COMMAND_NOT_SUPPORTED(0x07, ReplyStatus.COMMAND_NOT_SUPPORTED),
    ADDRESS_TYPE_NOT_SUPPORTED(0x08, ReplyStatus.ADDRESS_TYPE_NOT_SUPPORTED);

    private static final Socks5ReplyCode[] VALUES = values();

    private final byte value;
    private final ReplyStatus status;

    Socks5ReplyCode(int value, ReplyStatus status) {
        this.value = (byte) value;
        this.status = status;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public ReplyStatus status() {
        return status;
    }

    public static Socks5ReplyCode fromStatus(ReplyStatus status) {
        for (Socks5ReplyCode code : VALUES) {
            if (code.status == status) {
                return code;
            }
        }
        throw new AssertionError("every ReplyStatus has a SOCKS5 code: " + status);
    }

    public static Optional<Socks5ReplyCode> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    /** {@code CONNECTION_REFUSED(0x05)}, or {@code unknown(0x2a)}. */
    public static String describe(int value) {
        return ProtocolCode.describe(VALUES, value);
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
