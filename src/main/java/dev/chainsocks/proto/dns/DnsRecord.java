package dev.chainsocks.proto.dns;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * One resource record of an answer, authority or additional section. The data is kept as bytes: chainsocks writes
 * A and AAAA records and passes everything else through.
 *
 * @param name     the owner name, dotted, without the final dot
 * @param type     the record type
 * @param dnsClass the class (for OPT, the sender's UDP payload size)
 * @param ttl      the time to live in seconds, 0..2^31-1 (for OPT, the extended flags, kept as read)
 * @param data     the RDATA, at most 65535 bytes
 */
public record DnsRecord(String name, int type, int dnsClass, long ttl, byte[] data) {

    public DnsRecord {
        DnsName.check(name);
        DnsQuestion.checkU16("type", type);
        DnsQuestion.checkU16("class", dnsClass);
        if (ttl < 0 || ttl > 0xffff_ffffL) {
            throw new IllegalArgumentException("ttl out of range 0..4294967295: " + ttl);
        }
        data = data.clone();
        if (data.length > 0xffff) {
            throw new IllegalArgumentException("record data longer than 65535 bytes: " + data.length);
        }
    }

    /** An A or AAAA record of class IN for {@code address}. */
    public static DnsRecord address(String name, InetAddress address, Duration ttl) {
        DnsType type = address instanceof Inet6Address ? DnsType.AAAA : DnsType.A;
        return new DnsRecord(name, type.value(), DnsQuestion.IN, Math.min(ttl.toSeconds(), Integer.MAX_VALUE),
                address.getAddress());
    }

    /** A PTR record of class IN: {@code name} (a reverse-lookup name) points to {@code target}. */
    public static DnsRecord pointer(String name, String target, Duration ttl) {
        return new DnsRecord(name, DnsType.PTR.value(), DnsQuestion.IN, Math.min(ttl.toSeconds(), Integer.MAX_VALUE),
                DnsName.wire(target));
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /** The address of an A or AAAA record of class IN. */
    public Optional<InetAddress> address() {
        boolean a = type == DnsType.A.value() && data.length == 4;
        boolean aaaa = type == DnsType.AAAA.value() && data.length == 16;
        if (dnsClass != DnsQuestion.IN || !(a || aaaa)) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.getByAddress(data));
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DnsRecord r && r.type == type && r.dnsClass == dnsClass && r.ttl == ttl
                && r.name.equals(name) && Arrays.equals(r.data, data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, dnsClass, ttl, Arrays.hashCode(data));
    }

    /** The target of a PTR record of class IN, when its data is an uncompressed name. */
    public Optional<String> pointerTarget() {
        if (type != DnsType.PTR.value() || dnsClass != DnsQuestion.IN) {
            return Optional.empty();
        }
        StringBuilder name = new StringBuilder();
        int at = 0;
        while (at < data.length) {
            int length = data[at] & 0xff;
            if (length == 0) {
                return at == data.length - 1 && DnsName.problem(name.toString()) == null
                        ? Optional.of(name.toString()) : Optional.empty();
            }
            if (length > DnsName.MAX_LABEL || at + 1 + length > data.length) {
                return Optional.empty();
            }
            name.append(name.length() == 0 ? "" : ".")
                    .append(new String(data, at + 1, length, java.nio.charset.StandardCharsets.ISO_8859_1));
            at += 1 + length;
        }
        return Optional.empty();
    }

    /** {@code example.com A(1) ttl 60 198.18.0.1}, a PTR's target name, or the data in hex for other types. */
    @Override
    public String toString() {
        String shown = address().map(a -> a instanceof Inet4Address ? a.getHostAddress()
                : dev.chainsocks.syntax.AddressSyntax.literal(a)).or(this::pointerTarget)
                .orElseGet(() -> HexFormat.of().formatHex(data));
        return (name.isEmpty() ? "." : name) + " " + DnsType.describe(type)
                + (dnsClass == DnsQuestion.IN ? "" : " class " + dnsClass) + " ttl " + ttl + " " + shown;
    }
}
