package dev.chainsocks.proto.socks4;

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
import dev.chainsocks.proto.Socks4Admission;
import dev.chainsocks.proto.TestAuthenticator;
import dev.chainsocks.proto.ident.IdentVerdict;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Socks4ServerHandshakeTest {

    static final String REJECTED = "00 5b 0000 00000000";

    static Destination ip(String literal, int port) {
        try {
            return Destination.ip(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Stream<Arguments> requests() {
        Stream<Arguments> rows = Stream.of(
                Arguments.of(Authenticator.NONE, "04 01 0050 42660763 'Fred' 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS4, Command.CONNECT, ip("66.102.7.99", 80), "Fred")),
                Arguments.of(Authenticator.NONE, "04 02 0050 42660763 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS4, Command.BIND, ip("66.102.7.99", 80), null)),
                Arguments.of(Authenticator.NONE, "04 01 0050 00000001 00 'example.com' 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS4A, Command.CONNECT,
                                Destination.name("example.com", 80), null)),
                Arguments.of(TestAuthenticator.USERS_SOCKS4_BY_USERID, "04 01 0050 42660763 'Fred' 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS4, Command.CONNECT, ip("66.102.7.99", 80), "Fred")),
                Arguments.of(TestAuthenticator.USERS_SOCKS4_BY_USERID,
                        "04 01 0050 00000001 'Fred' 00 'example.com' 00",
                        new ServerOutcome.Request(ProxyProtocol.SOCKS4A, Command.CONNECT,
                                Destination.name("example.com", 80), "Fred")));
        return rows.flatMap(row -> Stream.of(Feeding.values())
                .map(f -> Arguments.of(row.get()[0], row.get()[1], row.get()[2], f)));
    }

    @ParameterizedTest(name = "{1} with {0}, {3}")
    @MethodSource("requests")
    void parsesRequest(Authenticator authenticator, String vector, ServerOutcome expected, Feeding feeding) {
        Socks4ServerHandshake handshake = new Socks4ServerHandshake(authenticator);
        ByteBuffer left = feeding.feed(Hex.bytes(vector), handshake::receive);
        assertThat(handshake.outcome()).isEqualTo(expected);
        assertThat(left.remaining()).isZero();
        assertThat(handshake.outbound().remaining()).isZero();
    }

    static final String NO_PASSWORD = " has no password; the server requires one"
            + " (--socks4-userid-only to admit a known user id)";

    /** Well-formed requests that the authenticator's SOCKS4 policy turns away. */
    static Stream<Arguments> refusals() {
        Stream<Arguments> rows = Stream.of(
                Arguments.of(TestAuthenticator.USERS, "04 01 0050 42660763 'Fred' 00", "SOCKS4" + NO_PASSWORD),
                Arguments.of(TestAuthenticator.USERS, "04 01 0050 00000001 'Fred' 00 'example.com' 00",
                        "SOCKS4a" + NO_PASSWORD),
                Arguments.of(TestAuthenticator.USERS, "04 02 0050 42660763 'Fred' 00", "SOCKS4" + NO_PASSWORD),
                Arguments.of(TestAuthenticator.USERS, "04 01 0050 42660763 'Mallory' 00", "SOCKS4" + NO_PASSWORD),
                Arguments.of(TestAuthenticator.USERS, "04 01 0050 42660763 00", "SOCKS4" + NO_PASSWORD),
                Arguments.of(TestAuthenticator.USERS_SOCKS4_BY_USERID, "04 01 0050 42660763 'Mallory' 00",
                        "SOCKS4 userid \"Mallory\" is not a known user"),
                Arguments.of(TestAuthenticator.USERS_SOCKS4_BY_USERID, "04 01 0050 00000001 'fred ' 00 'a.example' 00",
                        "SOCKS4a userid \"fred \" is not a known user"),
                Arguments.of(TestAuthenticator.USERS_SOCKS4_BY_USERID, "04 01 0050 42660763 00",
                        "SOCKS4 request without a userid, authentication is required"),
                Arguments.of(TestAuthenticator.USERS_SOCKS4_BY_IDENTD, "04 01 0050 42660763 'Mallory' 00",
                        "SOCKS4 userid \"Mallory\" is not a known user"),
                Arguments.of(TestAuthenticator.USERS_SOCKS4_BY_IDENTD, "04 01 0050 42660763 00",
                        "SOCKS4 request without a userid, authentication is required"));
        return rows.flatMap(row -> Stream.of(Feeding.values())
                .map(f -> Arguments.of(row.get()[0], row.get()[1], row.get()[2], f)));
    }

    @ParameterizedTest(name = "{1} with {0}, {3}")
    @MethodSource("refusals")
    void policyRefusalIs0x5bAndNoRequest(Authenticator authenticator, String vector, String reason,
            Feeding feeding) {
        Socks4ServerHandshake handshake = new Socks4ServerHandshake(authenticator);
        ByteBuffer left = feeding.feed(Hex.bytes(vector), handshake::receive);
        assertThat(handshake.outcome()).isEqualTo(new ServerOutcome.Rejected(reason));
        assertThat(left.remaining()).as("the whole request was read").isZero();
        assertThat(Hex.of(handshake.outbound())).isEqualTo(Hex.normalized(REJECTED));
        assertThatThrownBy(() -> handshake.reply(ReplyStatus.SUCCEEDED, null)).isInstanceOf(IllegalStateException.class);
    }

    static Stream<Arguments> rejections() {
        return Stream.of(
                Arguments.of(Authenticator.NONE, "04 01 0050 42660763 " + "41".repeat(300),
                        "SOCKS4 userid longer than 255 bytes without a NUL terminator"),
                Arguments.of(Authenticator.NONE, "04 09 0050 42660763 00", "SOCKS4 request: unknown command 0x09"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("rejections")
    void rejectsWith0x5b(Authenticator authenticator, String vector, String reason) {
        Socks4ServerHandshake handshake = new Socks4ServerHandshake(authenticator);
        handshake.receive(Hex.buffer(vector));
        assertThat(handshake.outcome()).isEqualTo(new ServerOutcome.Rejected(reason));
        assertThat(Hex.of(handshake.outbound())).isEqualTo(Hex.normalized(REJECTED));
        assertThatThrownBy(() -> handshake.reply(ReplyStatus.SUCCEEDED, null)).isInstanceOf(IllegalStateException.class);
    }

    static Stream<Arguments> identVerdicts() {
        return Stream.of(
                Arguments.of(new IdentVerdict.Confirmed("Fred"), null, ""),
                Arguments.of(new IdentVerdict.Unreachable("identd 10.0.0.2:113: Connection refused"),
                        "SOCKS4 userid \"Fred\": identd unreachable: identd 10.0.0.2:113: Connection refused,"
                                + " answered IDENTD_UNREACHABLE(0x5c)", "00 5c 0000 00000000"),
                Arguments.of(new IdentVerdict.NotConfirmed("the connection belongs to \"bob\""),
                        "SOCKS4 userid \"Fred\": identd did not confirm: the connection belongs to \"bob\","
                                + " answered IDENTD_USER_MISMATCH(0x5d)", "00 5d 0000 00000000"),
                Arguments.of(new IdentVerdict.Confirmed("fred"),
                        "SOCKS4 userid \"Fred\": identd confirmed another user, answered IDENTD_USER_MISMATCH(0x5d)",
                        "00 5d 0000 00000000"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("identVerdicts")
    void aKnownUseridWaitsForIdentdAndTheVerdictMakesTheAnswer(IdentVerdict verdict, String rejection,
            String answer) {
        for (Feeding feeding : Feeding.values()) {
            Socks4ServerHandshake handshake = new Socks4ServerHandshake(TestAuthenticator.USERS_SOCKS4_BY_IDENTD);
            ByteBuffer left = feeding.feed(Hex.bytes("04 01 0050 42660763 'Fred' 00"), handshake::receive);
            assertThat(left.remaining()).isZero();
            ServerOutcome.Request request = new ServerOutcome.Request(ProxyProtocol.SOCKS4, Command.CONNECT,
                    ip("66.102.7.99", 80), "Fred");
            assertThat(handshake.outcome()).isEqualTo(new ServerOutcome.NeedsIdentConfirmation(request));
            assertThat(handshake.outbound().remaining()).as("nothing is answered before identd").isZero();
            assertThatThrownBy(() -> handshake.reply(ReplyStatus.SUCCEEDED, null))
                    .isInstanceOf(IllegalStateException.class);

            handshake.resolveIdent(verdict);
            if (rejection == null) {
                assertThat(handshake.outcome()).isEqualTo(request);
                handshake.reply(ReplyStatus.SUCCEEDED, null);
                assertThat(Hex.of(handshake.outbound())).isEqualTo(Hex.normalized("00 5a 0000 00000000"));
            } else {
                assertThat(handshake.outcome()).isEqualTo(new ServerOutcome.Rejected(rejection));
                assertThat(Hex.of(handshake.outbound())).isEqualTo(Hex.normalized(answer));
            }
            assertThatThrownBy(() -> handshake.resolveIdent(verdict)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void policyAdmitsWhateverUseridWhenNoUsersAreConfigured() {
        for (String userId : new String[] {"", "Fred", "Mallory"}) {
            assertThat(Authenticator.NONE.admitSocks4(userId)).isEqualTo(Socks4Admission.ADMITTED);
        }
    }

    @Test
    void truncatedRequestLeavesTheOutcomeOpen() {
        Socks4ServerHandshake handshake = new Socks4ServerHandshake(Authenticator.NONE);
        handshake.receive(Hex.buffer("04 01 0050 42660763 'Fre'"));
        assertThat(handshake.outcome()).isNull();
        assertThatThrownBy(() -> handshake.reply(ReplyStatus.SUCCEEDED, null)).isInstanceOf(IllegalStateException.class);
    }

    static Stream<Arguments> replies() {
        return Stream.of(
                Arguments.of(ReplyStatus.SUCCEEDED, ip("10.0.0.1", 8080), "00 5a 1f90 0a000001"),
                Arguments.of(ReplyStatus.SUCCEEDED, null, "00 5a 0000 00000000"),
                Arguments.of(ReplyStatus.SUCCEEDED, ip("2001:db8::1", 8080), "00 5a 1f90 00000000"),
                Arguments.of(ReplyStatus.SUCCEEDED, Destination.name("proxy.example", 1080), "00 5a 0438 00000000"),
                Arguments.of(ReplyStatus.CONNECTION_REFUSED, null, "00 5b 0000 00000000"),
                Arguments.of(ReplyStatus.NOT_ALLOWED_BY_RULESET, ip("10.0.0.1", 1), "00 5b 0001 0a000001"));
    }

    @ParameterizedTest(name = "{0} bound {1}")
    @MethodSource("replies")
    void encodesReply(ReplyStatus status, Destination bound, String vector) {
        Socks4ServerHandshake handshake = new Socks4ServerHandshake(Authenticator.NONE);
        handshake.receive(Hex.buffer("04 01 0050 42660763 00"));
        handshake.reply(status, bound);
        assertThat(Hex.of(handshake.outbound())).isEqualTo(Hex.normalized(vector));
    }

    @Test
    void bindRepliesTwiceInOrder() {
        Socks4ServerHandshake handshake = new Socks4ServerHandshake(Authenticator.NONE);
        handshake.receive(Hex.buffer("04 02 0050 42660763 00"));
        handshake.reply(ReplyStatus.SUCCEEDED, ip("10.0.0.1", 40000));
        handshake.reply(ReplyStatus.SUCCEEDED, ip("66.102.7.99", 20));
        assertThat(Hex.of(handshake.outbound()))
                .isEqualTo(Hex.normalized("00 5a 9c40 0a000001  00 5a 0014 42660763"));
    }
}
