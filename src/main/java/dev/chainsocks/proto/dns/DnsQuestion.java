package dev.chainsocks.proto.dns;

import java.util.Objects;

/**
 * One entry of a message's question section.
 *
 * @param name     the name asked about, dotted, without the final dot ({@code ""} for the root); case kept
 * @param type     the record type (see {@link DnsType}); unknown types travel as numbers
 * @param dnsClass the class, 1 (IN) in practice
 */
public record DnsQuestion(String name, int type, int dnsClass) {

    /** The Internet class. */
    public static final int IN = 1;

    public DnsQuestion {
        DnsName.check(name);
        checkU16("type", type);
        checkU16("class", dnsClass);
    }

    /** A question of class IN. */
    public static DnsQuestion in(String name, DnsType type) {
        return new DnsQuestion(name, type.value(), IN);
    }

    /** Whether this asks for {@code type} in class IN. */
    public boolean asks(DnsType wanted) {
        return type == wanted.value() && dnsClass == IN;
    }

    static void checkU16(String field, int value) {
        if (value < 0 || value > 0xffff) {
            throw new IllegalArgumentException(field + " out of range 0..65535: " + value);
        }
    }

    /** {@code example.com AAAA(28)}; the class only when it is not IN. */
    @Override
    public String toString() {
        return (name.isEmpty() ? "." : name) + " " + DnsType.describe(type) + (dnsClass == IN ? "" : " class " + dnsClass);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DnsQuestion q && q.type == type && q.dnsClass == dnsClass && q.name.equals(name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, dnsClass);
    }
}
