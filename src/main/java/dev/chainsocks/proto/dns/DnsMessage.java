package dev.chainsocks.proto.dns;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One DNS message (RFC 1035 section 4): the header and four sections.
 *
 * @param id          the query id, echoed by the response
 * @param flags       the 16 header bits after the id: QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE
 * @param questions   the question section; a query has exactly one in practice
 * @param answers     the answer section
 * @param authorities the authority section
 * @param additionals the additional section (an EDNS OPT record lives here)
 */
public record DnsMessage(int id, int flags, List<DnsQuestion> questions, List<DnsRecord> answers,
                         List<DnsRecord> authorities, List<DnsRecord> additionals) {

    static final int QR = 0x8000;
    static final int AA = 0x0400;
    static final int TC = 0x0200;
    static final int RD = 0x0100;
    static final int RA = 0x0080;
    static final int OPCODE_SHIFT = 11;

    public DnsMessage {
        DnsQuestion.checkU16("id", id);
        DnsQuestion.checkU16("flags", flags);
        questions = List.copyOf(questions);
        answers = List.copyOf(answers);
        authorities = List.copyOf(authorities);
        additionals = List.copyOf(additionals);
        for (List<?> section : List.of(questions, answers, authorities, additionals)) {
            if (section.size() > 0xffff) {
                throw new IllegalArgumentException("more than 65535 entries in a section");
            }
        }
    }

    /** A standard query with recursion desired, as a stub resolver sends it. */
    public static DnsMessage query(int id, DnsQuestion question) {
        return new DnsMessage(id, RD, List.of(question), List.of(), List.of(), List.of());
    }

    /**
     * The response to {@code query}: same id, opcode, RD and question, recursion available, the given code and
     * answers.
     */
    public static DnsMessage responseTo(DnsMessage query, DnsRcode rcode, List<DnsRecord> answers) {
        int flags = QR | (query.flags & (0xf << OPCODE_SHIFT)) | (query.flags & RD) | RA | rcode.value();
        return new DnsMessage(query.id, flags, query.questions, answers, List.of(), List.of());
    }

    public boolean isResponse() {
        return (flags & QR) != 0;
    }

    /** 0 for a standard query. */
    public int opcode() {
        return (flags >> OPCODE_SHIFT) & 0xf;
    }

    public boolean truncated() {
        return (flags & TC) != 0;
    }

    public boolean recursionDesired() {
        return (flags & RD) != 0;
    }

    /** The 4-bit response code; see {@link DnsRcode}. */
    public int rcode() {
        return flags & 0xf;
    }

    /** The single question of a query, or null when there is not exactly one. */
    public DnsQuestion question() {
        return questions.size() == 1 ? questions.get(0) : null;
    }

    /** A copy with another id: a forwarder's own id towards the upstream, then the client's back. */
    public DnsMessage withId(int newId) {
        return new DnsMessage(newId, flags, questions, answers, authorities, additionals);
    }

    /** {@code query 4660 [example.com A(1)]} or {@code response 4660 NXDOMAIN(3) [..] -> [..]}. */
    @Override
    public String toString() {
        String head = isResponse() ? "response " + id + " " + DnsRcode.describe(rcode()) : "query " + id;
        String records = Stream.of(answers, authorities, additionals).flatMap(List::stream)
                .map(DnsRecord::toString).collect(Collectors.joining(", "));
        return head + (opcode() == 0 ? "" : " opcode " + opcode()) + (truncated() ? " truncated" : "") + " "
                + questions + (records.isEmpty() ? "" : " -> [" + records + "]");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DnsMessage m && m.id == id && m.flags == flags && m.questions.equals(questions)
                && m.answers.equals(answers) && m.authorities.equals(authorities)
                && m.additionals.equals(additionals);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, flags, questions, answers, authorities, additionals);
    }
}
