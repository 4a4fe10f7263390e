package dev.chainsocks.proto.socks4;

import dev.chainsocks.proto.ProtocolCode;
import dev.chainsocks.proto.ReplyStatus;
import java.util.Optional;

/**
 * The CD field of a SOCKS4 reply: 90 granted, 91 rejected or failed, 92 and 93 identd failures. SOCKS4 has no
 * finer reasons, so {@link #fromStatus} folds every failure into {@link #REJECTED}.
 */
public enum Socks4ReplyCode implements ProtocolCode {
    GRANTED(0x5a),
    REJECTED(0x5b),
    /** The server could not reach identd on the client. */
    IDENTD_UNREACHABLE(0x5c),
    /** identd on the client reported a different user than the request's userid. */
    IDENTD_USER_MISMATCH(0x5d);

    private static final Socks4ReplyCode[] VALUES = values();

    private final byte value;

    Socks4ReplyCode(int value) {
        this.value = (byte) value;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public static Optional<Socks4ReplyCode> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    public static String describe(int value) {
        return ProtocolCode.describe(VALUES, value);
    }

    /** GRANTED for SUCCEEDED, REJECTED for everything else. */
    public static Socks4ReplyCode fromStatus(ReplyStatus status) {
        return status == ReplyStatus.SUCCEEDED ? GRANTED : REJECTED;
    }

    /** The protocol-neutral meaning; the identd failures count as refused by policy. */
    public ReplyStatus status() {
        return switch (this) {
            case GRANTED -> ReplyStatus.SUCCEEDED;
            case REJECTED -> ReplyStatus.GENERAL_FAILURE;
            case IDENTD_UNREACHABLE, IDENTD_USER_MISMATCH -> ReplyStatus.NOT_ALLOWED_BY_RULESET;
        };
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
