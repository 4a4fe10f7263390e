package dev.chainsocks.proto.dns;

import java.util.Optional;

/** The response codes of RFC 1035 section 4.1.1 that chainsocks sends or meets. */
public enum DnsRcode {
    NOERROR(0),
    FORMERR(1),
    SERVFAIL(2),
    NXDOMAIN(3),
    NOTIMP(4),
    REFUSED(5);

    private final int value;

    DnsRcode(int value) {
        this.value = value;
    }

    /** The 4-bit value in the header. */
    public int value() {
        return value;
    }

    public static Optional<DnsRcode> fromValue(int value) {
        for (DnsRcode code : values()) {
            if (code.value == value) {
                return Optional.of(code);
            }
        }
        return Optional.empty();
    }

    /** {@code NXDOMAIN(3)} for a known code, {@code unknown(11)} otherwise. */
    public static String describe(int value) {
        return fromValue(value).map(DnsRcode::toString).orElse("unknown(" + value + ")");
    }

    @Override
    public String toString() {
        return name() + "(" + value + ")";
    }
}
