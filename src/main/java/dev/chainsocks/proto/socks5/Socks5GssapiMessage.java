package dev.chainsocks.proto.socks5;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One GSS-API sub-negotiation message (RFC 1961): {@code VER=1 MTYP LEN(2) TOKEN}, or just {@code VER=1 MTYP=0xff}
 * for {@link Socks5GssapiMessageType#ABORT}, which carries no token.
 *
 * @param type  what the token is
 * @param token the GSS-API token, 0..65535 bytes; empty for an abort
 */
public record Socks5GssapiMessage(Socks5GssapiMessageType type, byte[] token) {

    public static final int MAX_TOKEN_LENGTH = 0xffff;

    public Socks5GssapiMessage {
        Objects.requireNonNull(type, "type");
        token = token.clone();
        if (token.length > MAX_TOKEN_LENGTH) {
            throw new IllegalArgumentException("GSS-API token of " + token.length + " bytes is longer than the "
                    + MAX_TOKEN_LENGTH + " RFC 1961 can carry");
        }
        if (type == Socks5GssapiMessageType.ABORT && token.length != 0) {
            throw new IllegalArgumentException("an RFC 1961 abort message carries no token");
        }
    }

    /** The abort message. */
    public static Socks5GssapiMessage abort() {
        return new Socks5GssapiMessage(Socks5GssapiMessageType.ABORT, new byte[0]);
    }

    @Override
    public byte[] token() {
        return token.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Socks5GssapiMessage that && type == that.type && Arrays.equals(token, that.token);
    }

    @Override
    public int hashCode() {
        return 31 * type.hashCode() + Arrays.hashCode(token);
    }

    @Override
    public String toString() {
        String shown = token.length <= 16 ? HexFormat.of().formatHex(token)
                : HexFormat.of().formatHex(token, 0, 16) + "...";
        return "GSS-API " + type + (type == Socks5GssapiMessageType.ABORT ? "" : " " + token.length + " bytes "
                + shown);
    }
}
