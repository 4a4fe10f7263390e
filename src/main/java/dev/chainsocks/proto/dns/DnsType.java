package dev.chainsocks.proto.dns;

import java.util.Optional;

/**
 * The record types chainsocks' DNS server looks at. Any other type still travels as its number; {@link #describe}
 * names it {@code TYPE65} as RFC 3597 does.
 */
public enum DnsType {
    A(1),
    NS(2),
    CNAME(5),
    SOA(6),
    PTR(12),
    MX(15),
    TXT(16),
    AAAA(28),
    SRV(33),
    OPT(41),
    HTTPS(65),
    ANY(255);

    private final int value;

    DnsType(int value) {
        this.value = value;
    }

    /** The 16-bit value on the wire. */
    public int value() {
        return value;
    }

    public static Optional<DnsType> fromValue(int value) {
        for (DnsType type : values()) {
            if (type.value == value) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }

    /** {@code AAAA(28)} for a known type, {@code TYPE99(99)} otherwise. */
    public static String describe(int value) {
        return fromValue(value).map(DnsType::toString).orElse("TYPE" + value + "(" + value + ")");
    }

    @Override
    public String toString() {
        return name() + "(" + value + ")";
    }
}
