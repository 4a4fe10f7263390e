package dev.chainsocks.proto.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ReplyStatus;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each row is a whole conversation: what the client must have sent in total, what the proxy sends in total, and
 * the outcome. The proxy's bytes are fed whole, byte by byte, and followed by early data.
 */
class Socks5ClientHandshakeTest {

    static final Destination GOOGLE = ip("66.102.7.99", 80);
    static final String REQUEST_GOOGLE = "05 01 00 01 42660763 0050";
    static final String BOUND_10_0_0_1 = "01 0a000001 1f90";

    static Destination ip(String literal, int port) {
        try {
            return Destination.ip(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    record Conversation(String name, Supplier<Socks5ClientHandshake> client, String clientSends, String proxySends,
            HandshakeOutcome outcome) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Conversation> conversations() {
        Supplier<Socks5ClientHandshake> anonymous = () -> new Socks5ClientHandshake(GOOGLE);
        Supplier<Socks5ClientHandshake> fred = () -> new Socks5ClientHandshake(
                Destination.name("example.com", 443), "fred", "secret");
        List<Conversation> rows = new ArrayList<>(List.of(
                new Conversation("no auth, IPv4, granted", anonymous, "05 01 00 " + REQUEST_GOOGLE,
                        "05 00  05 00 00 " + BOUND_10_0_0_1, new HandshakeOutcome.Granted(ip("10.0.0.1", 8080))),
                new Conversation("IPv6 destination, bound IPv6", () -> new Socks5ClientHandshake(ip("2001:db8::1", 443)),
                        "05 01 00  05 01 00 04 20010db8000000000000000000000001 01bb",
                        "05 00  05 00 00 04 20010db8000000000000000000000002 9c40",
                        new HandshakeOutcome.Granted(ip("2001:db8::2", 40000))),
                new Conversation("user/pass accepted, DOMAIN destination and bound", fred,
                        "05 02 00 02  01 04 'fred' 06 'secret'  05 01 00 03 0b 'example.com' 01bb",
                        "05 02  01 00  05 00 00 03 0d 'proxy.example' 0438",
                        new HandshakeOutcome.Granted(Destination.name("proxy.example", 1080))),
                new Conversation("UDP ASSOCIATE from 0.0.0.0:5353, relay granted",
                        () -> Socks5ClientHandshake.udpAssociate(ip("0.0.0.0", 5353), null, null),
                        "05 01 00  05 03 00 01 00000000 14e9",
                        "05 00  05 00 00 " + BOUND_10_0_0_1, new HandshakeOutcome.Granted(ip("10.0.0.1", 8080))),
                new Conversation("UDP ASSOCIATE with user/pass, IPv6 source and relay",
                        () -> Socks5ClientHandshake.udpAssociate(ip("::", 0), "fred", "secret"),
                        "05 02 00 02  01 04 'fred' 06 'secret'  05 03 00 04 00000000000000000000000000000000 0000",
                        "05 02  01 00  05 00 00 04 20010db8000000000000000000000002 9c40",
                        new HandshakeOutcome.Granted(ip("2001:db8::2", 40000))),
                new Conversation("credentials offered, proxy chooses no auth", fred,
                        "05 02 00 02  05 01 00 03 0b 'example.com' 01bb",
                        "05 00  05 00 00 " + BOUND_10_0_0_1, new HandshakeOutcome.Granted(ip("10.0.0.1", 8080))),
                new Conversation("user/pass rejected", fred, "05 02 00 02  01 04 'fred' 06 'secret'", "05 02  01 01",
                        new HandshakeOutcome.AuthenticationFailed(
                                "SOCKS5 proxy rejected username/password for user fred")),
                new Conversation("no acceptable methods", anonymous, "05 01 00", "05 ff",
                        new HandshakeOutcome.AuthenticationFailed(
                                "SOCKS5 proxy accepts none of the offered methods [NO_AUTHENTICATION(0x00)]")),
                new Conversation("proxy chooses a method not offered", anonymous, "05 01 00", "05 02",
                        new HandshakeOutcome.ProtocolError(
                                "SOCKS5 method selection: proxy chose USERNAME_PASSWORD(0x02), which was not offered")),
                new Conversation("corrupt: SOCKS4 answer", anonymous, "05 01 00", "00 5a",
                        new HandshakeOutcome.ProtocolError(
                                "SOCKS5 method selection: unsupported version 0x00, expected 0x05")),
                new Conversation("corrupt: unknown reply code", anonymous, "05 01 00 " + REQUEST_GOOGLE,
                        "05 00  05 2a 00 " + BOUND_10_0_0_1,
                        new HandshakeOutcome.ProtocolError("SOCKS5 reply: unknown reply code 0x2a")),
                new Conversation("corrupt: unknown bound address type", anonymous, "05 01 00 " + REQUEST_GOOGLE,
                        "05 00  05 00 00 07",
                        new HandshakeOutcome.ProtocolError("SOCKS5 reply: unknown address type 0x07"))));
        for (Socks5ReplyCode code : Socks5ReplyCode.values()) {
            if (code != Socks5ReplyCode.SUCCEEDED) {
                rows.add(new Conversation("refused " + code, anonymous, "05 01 00 " + REQUEST_GOOGLE,
                        String.format("05 00  05 %02x 00 01 00000000 0000", code.byteValue()),
                        new HandshakeOutcome.Refused(code.status(), code.toString())));
            }
        }
        return rows;
    }

    static Stream<Arguments> conversationsFedEveryWay() {
        return conversations().stream().flatMap(c -> Stream.of(Feeding.values()).map(f -> Arguments.of(c, f)));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("conversationsFedEveryWay")
    void converses(Conversation conversation, Feeding feeding) {
        Socks5ClientHandshake client = conversation.client().get();
        ByteBuffer left = feeding.feed(Hex.bytes(conversation.proxySends()), client::receive);

        assertThat(client.outcome()).isEqualTo(conversation.outcome());
        assertThat(Hex.of(client.outbound())).isEqualTo(Hex.normalized(conversation.clientSends()));
        if (!(conversation.outcome() instanceof HandshakeOutcome.ProtocolError)) {
            assertThat(left.remaining()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conversations")
    void truncatedProxyAnswerLeavesTheOutcomeOpen(Conversation conversation) {
        byte[] proxySends = Hex.bytes(conversation.proxySends());
        if (conversation.outcome() instanceof HandshakeOutcome.ProtocolError) {
            return; // corrupt rows fail at the offending byte, before the end
        }
        Socks5ClientHandshake client = conversation.client().get();
        client.receive(ByteBuffer.wrap(proxySends, 0, proxySends.length - 1));
        assertThat(client.outcome()).isNull();
    }

    @Test
    void everyReplyCodeIsCovered() {
        assertThat(conversations()).filteredOn(c -> c.outcome() instanceof HandshakeOutcome.Refused)
                .extracting(c -> ((HandshakeOutcome.Refused) c.outcome()).status())
                .containsExactlyInAnyOrder(ReplyStatus.GENERAL_FAILURE, ReplyStatus.NOT_ALLOWED_BY_RULESET,
                        ReplyStatus.NETWORK_UNREACHABLE, ReplyStatus.HOST_UNREACHABLE, ReplyStatus.CONNECTION_REFUSED,
                        ReplyStatus.TTL_EXPIRED, ReplyStatus.COMMAND_NOT_SUPPORTED,
                        ReplyStatus.ADDRESS_TYPE_NOT_SUPPORTED);
    }

    @Test
    void sendsTheRequestOnlyAfterTheMethodIsChosen() {
        Socks5ClientHandshake client = new Socks5ClientHandshake(GOOGLE, "fred", "secret");
        assertThat(Hex.of(Hex.drain(client.outbound()))).isEqualTo("05 02 00 02");
        client.receive(Hex.buffer("05 02"));
        assertThat(Hex.of(Hex.drain(client.outbound()))).isEqualTo(Hex.normalized("01 04 'fred' 06 'secret'"));
        client.receive(Hex.buffer("01 00"));
        assertThat(Hex.of(Hex.drain(client.outbound()))).isEqualTo(Hex.normalized(REQUEST_GOOGLE));
        assertThat(client.outcome()).isNull();
    }

    @Test
    void validatesCredentialsAtConstruction() {
        assertThatThrownBy(() -> new Socks5ClientHandshake(GOOGLE, "", "secret"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("username must be 1..255 bytes");
        assertThatThrownBy(() -> new Socks5ClientHandshake(GOOGLE, "fred", "x".repeat(256)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("password must be 1..255 bytes");
    }

    @Test
    void describesItself() {
        assertThat(new Socks5ClientHandshake(Destination.name("example.com", 443), "fred", "secret"))
                .hasToString("socks5 CONNECT example.com:443 as fred");
    }
}
