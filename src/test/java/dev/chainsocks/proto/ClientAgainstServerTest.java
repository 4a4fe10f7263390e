package dev.chainsocks.proto;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.ServerOutcome.Command;
import dev.chainsocks.proto.ServerOutcome.ProxyProtocol;
import dev.chainsocks.proto.http.HttpConnectClientHandshake;
import dev.chainsocks.proto.http.HttpProxyServerHandshake;
import dev.chainsocks.proto.socks4.Socks4ClientHandshake;
import dev.chainsocks.proto.socks4.Socks4ServerHandshake;
import dev.chainsocks.proto.socks5.Socks5ClientHandshake;
import dev.chainsocks.proto.socks5.Socks5ServerHandshake;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Our client handshakes against our server handshakes, in memory: client outbound to server receive, server reply,
 * server outbound to client receive, until the client has an outcome. After a SUCCEEDED reply the server side
 * writes early data, which must reach the client's buffer untouched.
 */
class ClientAgainstServerTest {

    static final byte[] EARLY = Hex.bytes("'220 smtp.example ESMTP' 0d 0a");
    static final Destination IPV4 = ip("66.102.7.99", 80);
    static final Destination IPV6 = ip("2001:db8::1", 443);
    static final Destination NAME = Destination.name("example.com", 443);
    static final Destination BOUND = ip("10.0.0.1", 40000);

    static Destination ip(String literal, int port) {
        try {
            return Destination.ip(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    record Result(ServerOutcome server, HandshakeOutcome client, ByteBuffer leftAtClient) {
    }

    /** Runs both sides to the end; the server answers a request with {@code status}, bound {@code BOUND}. */
    static Result converse(ClientHandshake client, ServerHandshake server, ReplyStatus status) {
        ByteBuffer toServer = ByteBuffer.allocate(1 << 16);
        ByteBuffer toClient = ByteBuffer.allocate(1 << 16);
        boolean replied = false;
        for (int round = 0; round < 10 && client.outcome() == null; round++) {
            toServer.put(client.outbound()).flip();
            server.receive(toServer);
            toServer.compact();
            if (server.outcome() instanceof ServerOutcome.Request && !replied) {
                server.reply(status, BOUND);
                replied = true;
                toClient.put(server.outbound());
                if (status == ReplyStatus.SUCCEEDED) {
                    toClient.put(EARLY);
                }
            }
            toClient.put(server.outbound()).flip();
            client.receive(toClient);
            toClient.compact();
        }
        assertThat(client.outcome()).as("client finished").isNotNull();
        assertThat(toServer.position()).as("server consumed all handshake bytes").isZero();
        return new Result(server.outcome(), client.outcome(), toClient.flip());
    }

    record Pair(String name, Supplier<ClientHandshake> client, Supplier<ServerHandshake> server,
            ServerOutcome expectedAtServer, Destination expectedBound) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Pair> grantedPairs() {
        Authenticator users = TestAuthenticator.USERS;
        return List.of(
                new Pair("socks4 as Fred, userid-only admission", () -> new Socks4ClientHandshake(IPV4, "Fred"),
                        () -> new Socks4ServerHandshake(TestAuthenticator.USERS_SOCKS4_BY_USERID),
                        new ServerOutcome.Request(ProxyProtocol.SOCKS4, Command.CONNECT, IPV4, "Fred"), BOUND),
                new Pair("socks4a name", () -> Socks4ClientHandshake.socks4a(NAME, ""),
                        () -> new Socks4ServerHandshake(Authenticator.NONE),
                        new ServerOutcome.Request(ProxyProtocol.SOCKS4A, Command.CONNECT, NAME, null), BOUND),
                new Pair("socks5 IPv4", () -> new Socks5ClientHandshake(IPV4),
                        () -> new Socks5ServerHandshake(Authenticator.NONE),
                        new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.CONNECT, IPV4, null), BOUND),
                new Pair("socks5 IPv6", () -> new Socks5ClientHandshake(IPV6),
                        () -> new Socks5ServerHandshake(Authenticator.NONE),
                        new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.CONNECT, IPV6, null), BOUND),
                new Pair("socks5 name with user/pass", () -> new Socks5ClientHandshake(NAME, "fred", "secret"),
                        () -> new Socks5ServerHandshake(users),
                        new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.CONNECT, NAME, "fred"), BOUND),
                new Pair("socks5 credentials offered to an open server",
                        () -> new Socks5ClientHandshake(NAME, "fred", "secret"),
                        () -> new Socks5ServerHandshake(Authenticator.NONE),
                        new ServerOutcome.Request(ProxyProtocol.SOCKS5, Command.CONNECT, NAME, null), BOUND),
                new Pair("http CONNECT name", () -> new HttpConnectClientHandshake(NAME),
                        () -> new HttpProxyServerHandshake(Authenticator.NONE),
                        new ServerOutcome.Request(ProxyProtocol.HTTP, Command.CONNECT, NAME, null), NAME),
                new Pair("http CONNECT IPv6 with Basic", () -> new HttpConnectClientHandshake(IPV6, "fred", "secret"),
                        () -> new HttpProxyServerHandshake(users),
                        new ServerOutcome.Request(ProxyProtocol.HTTP, Command.CONNECT, IPV6, "fred"), IPV6));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("grantedPairs")
    void grants(Pair pair) {
        Result result = converse(pair.client().get(), pair.server().get(), ReplyStatus.SUCCEEDED);
        assertThat(result.server()).isEqualTo(pair.expectedAtServer());
        assertThat(result.client()).isEqualTo(new HandshakeOutcome.Granted(pair.expectedBound()));
        assertThat(Hex.of(result.leftAtClient())).as("early data").isEqualTo(Hex.of(EARLY));
    }

    static Stream<Arguments> refusals() {
        List<Arguments> rows = new ArrayList<>();
        for (ReplyStatus status : ReplyStatus.values()) {
            if (status == ReplyStatus.SUCCEEDED) {
                continue;
            }
            rows.add(Arguments.of("socks5", status, (Supplier<ClientHandshake>) () -> new Socks5ClientHandshake(NAME),
                    (Supplier<ServerHandshake>) () -> new Socks5ServerHandshake(Authenticator.NONE),
                    new HandshakeOutcome.Refused(status, status.name() + "(0x0" + status.ordinal() + ")")));
            rows.add(Arguments.of("socks4", status,
                    (Supplier<ClientHandshake>) () -> new Socks4ClientHandshake(IPV4, null),
                    (Supplier<ServerHandshake>) () -> new Socks4ServerHandshake(Authenticator.NONE),
                    new HandshakeOutcome.Refused(ReplyStatus.GENERAL_FAILURE, "REJECTED(0x5b)")));
            HandshakeOutcome overHttp = switch (status) {
                case NOT_ALLOWED_BY_RULESET -> new HandshakeOutcome.Refused(status, "HTTP 403 Forbidden");
                case TTL_EXPIRED -> new HandshakeOutcome.Refused(status, "HTTP 504 Gateway Timeout");
                default -> new HandshakeOutcome.Refused(ReplyStatus.HOST_UNREACHABLE, "HTTP 502 Bad Gateway");
            };
            rows.add(Arguments.of("http", status, (Supplier<ClientHandshake>) () -> new HttpConnectClientHandshake(NAME),
                    (Supplier<ServerHandshake>) () -> new HttpProxyServerHandshake(Authenticator.NONE), overHttp));
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refusals")
    void carriesRefusals(String protocol, ReplyStatus status, Supplier<ClientHandshake> client,
            Supplier<ServerHandshake> server, HandshakeOutcome expected) {
        Result result = converse(client.get(), server.get(), status);
        assertThat(result.server()).isInstanceOf(ServerOutcome.Request.class);
        assertThat(result.client()).isEqualTo(expected);
    }

    enum Rejection {
        SOCKS4_KNOWN_USER_HAS_NO_PASSWORD(() -> new Socks4ClientHandshake(IPV4, "fred"),
                new HandshakeOutcome.Refused(ReplyStatus.GENERAL_FAILURE, "REJECTED(0x5b)")),
        SOCKS4A_KNOWN_USER_HAS_NO_PASSWORD(() -> Socks4ClientHandshake.socks4a(NAME, "fred"),
                new HandshakeOutcome.Refused(ReplyStatus.GENERAL_FAILURE, "REJECTED(0x5b)")),
        SOCKS4_UNKNOWN_USER(() -> new Socks4ClientHandshake(IPV4, "mallory"),
                new HandshakeOutcome.Refused(ReplyStatus.GENERAL_FAILURE, "REJECTED(0x5b)")),
        SOCKS5_WITHOUT_CREDENTIALS(() -> new Socks5ClientHandshake(NAME),
                new HandshakeOutcome.AuthenticationFailed(
                        "SOCKS5 proxy accepts none of the offered methods [NO_AUTHENTICATION(0x00)]")),
        SOCKS5_WRONG_PASSWORD(() -> new Socks5ClientHandshake(NAME, "fred", "wrong"),
                new HandshakeOutcome.AuthenticationFailed("SOCKS5 proxy rejected username/password for user fred")),
        HTTP_WITHOUT_CREDENTIALS(() -> new HttpConnectClientHandshake(NAME), new HandshakeOutcome.AuthenticationFailed(
                "HTTP 407 Proxy Authentication Required: the proxy requires credentials")),
        HTTP_WRONG_PASSWORD(() -> new HttpConnectClientHandshake(NAME, "fred", "wrong"),
                new HandshakeOutcome.AuthenticationFailed(
                        "HTTP 407 Proxy Authentication Required: the proxy rejected the credentials of fred"));

        final Supplier<ClientHandshake> client;
        final HandshakeOutcome expected;

        Rejection(Supplier<ClientHandshake> client, HandshakeOutcome expected) {
            this.client = client;
            this.expected = expected;
        }
    }

    @ParameterizedTest
    @EnumSource(Rejection.class)
    void authenticationFailuresReachTheClient(Rejection rejection) {
        ClientHandshake client = rejection.client.get();
        ServerHandshake server = switch (client.outbound().get(0)) {
            case 0x04 -> new Socks4ServerHandshake(TestAuthenticator.USERS);
            case 0x05 -> new Socks5ServerHandshake(TestAuthenticator.USERS);
            default -> new HttpProxyServerHandshake(TestAuthenticator.USERS);
        };
        Result result = converse(client, server, ReplyStatus.SUCCEEDED);
        assertThat(result.server()).isInstanceOf(ServerOutcome.Rejected.class);
        assertThat(result.client()).isEqualTo(rejection.expected);
    }
}
