package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.ProtocolCode;
import java.util.Optional;

/** MTYP of a GSS-API sub-negotiation message (RFC 1961 sections 3.3, 4.3 and 5). */
public enum Socks5GssapiMessageType implements ProtocolCode {
    /** A security context establishment token (section 3.3). */
    AUTHENTICATION(0x01),
    /** The wrapped protection level, each way (section 4.3). */
    PROTECTION(0x02),
    /** A wrapped piece of the relayed stream once integrity or confidentiality was agreed (section 5). */
    ENCAPSULATION(0x03),
    /** Either side gives up: no length and no token follow (section 3.4). */
    ABORT(0xff);

    private static final Socks5GssapiMessageType[] VALUES = values();

    private final byte value;

    Socks5GssapiMessageType(int value) {
        this.value = (byte) value;
    }

    @Override
    public byte byteValue() {
        return value;
    }

    public static Optional<Socks5GssapiMessageType> fromByte(int value) {
        return ProtocolCode.find(VALUES, value);
    }

    @Override
    public String toString() {
        return ProtocolCode.label(this);
    }
}
