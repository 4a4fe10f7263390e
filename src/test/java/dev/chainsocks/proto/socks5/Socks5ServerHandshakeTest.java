package dev.chainsocks.proto.socks5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.Feeding;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.ServerOutcome.Command;
import dev.chainsocks.proto.ServerOutcome.ProxyProtocol;
import dev.chainsocks.proto.TestAuthenticator;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each row: the client's bytes (all pipelined), what the server must answer in total, and the outcome. */
class Socks5ServerHandshakeTest {

    static final String FRED_AUTH = "01 04 'fred' 06 'secret'";

    static Destination ip(String literal, int port) {
        try {
            return Destination.ip(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    record Conversation(String name, Authenticator authenticator, String clientSends, String serverAnswers,
            ServerOutcome outcome) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Conversation> conversations() {
        return List.of(
                new Conversation("no auth CONNECT IPv4", Authenticator.NONE, "05 01 00  05 01 00 01 42660763 0050",
                        "05 00", new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.CONNECT,
                                ip("66.102.7.99", 80), null)),
                new Conversation("no auth offered among others", Authenticator.NONE,
                        "05 03 01 02 00  05 01 00 04 00000000000000000000000000000001 0016", "05 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.CONNECT, ip("::1", 22), null)),
                new Conversation("user/pass, DOMAIN, pipelined", TestAuthenticator.USERS,
                        "05 02 00 02 " + FRED_AUTH + " 05 01 00 03 0b 'example.com' 01bb", "05 02  01 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.CONNECT,
                                Destination.name("example.com", 443), "fred")),
                new Conversation("BIND", Authenticator.NONE, "05 01 00  05 02 00 01 0a000001 0015", "05 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.BIND, ip("10.0.0.1", 21), null)),
                new Conversation("UDP ASSOCIATE", Authenticator.NONE, "05 01 00  05 03 00 01 00000000 0000", "05 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.UDP_ASSOCIATE, ip("0.0.0.0", 0), null)),
                new Conversation("non-zero RSV tolerated", Authenticator.NONE, "05 01 00  05 01 01 01 42660763 0050",
                        "05 00", new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.CONNECT,
                                ip("66.102.7.99", 80), null)),
                new Conversation("only GSSAPI offered", Authenticator.NONE, "05 01 01", "05 ff",
                        new ServerOutcome.Rejected(
                                "no acceptable authentication method; client offered [GSSAPI(0x01)]")),
                new Conversation("auth required, client offers none", TestAuthenticator.USERS, "05 01 00", "05 ff",
                        new ServerOutcome.Rejected(
                                "no acceptable authentication method; client offered [NO_AUTHENTICATION(0x00)]")),
                new Conversation("wrong password", TestAuthenticator.USERS, "05 01 02  01 04 'fred' 05 'wrong'",
                        "05 02  01 01", new ServerOutcome.Rejected("RFC 1929 authentication failed for user \"fred\"")),
                new Conversation("unknown user", TestAuthenticator.USERS, "05 01 02  01 03 'eve' 01 'x'",
                        "05 02  01 01", new ServerOutcome.Rejected("RFC 1929 authentication failed for user \"eve\"")),
                new Conversation("SOCKS version byte in the sub-negotiation", TestAuthenticator.USERS,
                        "05 01 02  05 04 'fred' 06 'secret'", "05 02  01 01", new ServerOutcome.Rejected(
                                "RFC 1929 request: unsupported sub-negotiation version 0x05, expected 0x01")),
                new Conversation("unknown command", Authenticator.NONE, "05 01 00  05 09 00 01 42660763 0050",
                        "05 00  05 07 00 01 00000000 0000",
                        new ServerOutcome.Rejected("SOCKS5 request: unknown command 0x09")),
                new Conversation("unknown address type", Authenticator.NONE, "05 01 00  05 01 00 07 42660763 0050",
                        "05 00  05 08 00 01 00000000 0000",
                        new ServerOutcome.Rejected("SOCKS5 request: unknown address type 0x07")),
                new Conversation("empty domain", Authenticator.NONE, "05 01 00  05 01 00 03 00 0050",
                        "05 00  05 01 00 01 00000000 0000",
                        new ServerOutcome.Rejected("SOCKS5 request: empty domain name (length 0x00)")),
                new Conversation("not SOCKS5", Authenticator.NONE, "04 01 00 50", "",
                        new ServerOutcome.Rejected("SOCKS5 greeting: unsupported version 0x04, expected 0x05")),
                new Conversation("no methods", Authenticator.NONE, "05 00", "",
                        new ServerOutcome.Rejected("SOCKS5 greeting: no methods offered (NMETHODS 0x00)")));
    }

    static Stream<Arguments> conversationsFedEveryWay() {
        return conversations().stream().flatMap(c -> Stream.of(Feeding.values()).map(f -> Arguments.of(c, f)));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("conversationsFedEveryWay")
    void converses(Conversation conversation, Feeding feeding) {
        Socks5ServerHandshake server = new Socks5ServerHandshake(conversation.authenticator());
        ByteBuffer left = feeding.feed(Hex.bytes(conversation.clientSends()), server::receive);

        assertThat(server.outcome()).isEqualTo(conversation.outcome());
        assertThat(Hex.of(server.outbound())).isEqualTo(Hex.normalized(conversation.serverAnswers()));
        if (conversation.outcome() instanceof ServerOutcome.Request) {
            assertThat(left.remaining()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conversations")
    void everyTruncationLeavesTheOutcomeOpen(Conversation conversation) {
        if (!(conversation.outcome() instanceof ServerOutcome.Request)) {
            return;
        }
        byte[] bytes = Hex.bytes(conversation.clientSends());
        for (int length = 0; length < bytes.length; length++) {
            Socks5ServerHandshake server = new Socks5ServerHandshake(conversation.authenticator());
            server.receive(ByteBuffer.wrap(bytes, 0, length));
            assertThat(server.outcome()).as("first %d bytes", length).isNull();
        }
    }

    static Stream<Arguments> replies() {
        return Stream.of(
                Arguments.of(ReplyStatus.SUCCEEDED, ip("10.0.0.1", 8080), "05 00 00 01 0a000001 1f90"),
                Arguments.of(ReplyStatus.SUCCEEDED, ip("2001:db8::1", 8080),
                        "05 00 00 04 20010db8000000000000000000000001 1f90"),
                Arguments.of(ReplyStatus.SUCCEEDED, Destination.name("proxy.example", 1080),
                        "05 00 00 03 0d 'proxy.example' 0438"),
                Arguments.of(ReplyStatus.HOST_UNREACHABLE, null, "05 04 00 01 00000000 0000"),
                Arguments.of(ReplyStatus.TTL_EXPIRED, null, "05 06 00 01 00000000 0000"));
    }

    @ParameterizedTest(name = "{0} bound {1}")
    @MethodSource("replies")
    void encodesReply(ReplyStatus status, Destination bound, String vector) {
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE);
        server.receive(Hex.buffer("05 01 00  05 01 00 01 42660763 0050"));
        Hex.drain(server.outbound());
        server.reply(status, bound);
        assertThat(Hex.of(server.outbound())).isEqualTo(Hex.normalized(vector));
    }

    @Test
    void replyIsOnlyForARequest() {
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE);
        assertThatThrownBy(() -> server.reply(ReplyStatus.SUCCEEDED, null)).isInstanceOf(IllegalStateException.class);
        server.receive(Hex.buffer("05 01 01"));
        assertThatThrownBy(() -> server.reply(ReplyStatus.SUCCEEDED, null)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void doesNotReadPastTheRequest() {
        Socks5ServerHandshake server = new Socks5ServerHandshake(Authenticator.NONE);
        ByteBuffer in = Hex.buffer("05 01 00  05 01 00 01 42660763 0050  'GET / HTTP/1.1'");
        server.receive(in);
        server.receive(in);
        assertThat(Hex.of(in)).isEqualTo(Hex.normalized("'GET / HTTP/1.1'"));
    }
}
