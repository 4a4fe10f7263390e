package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.Socks4Policy;
import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SOCKS4 carries a user id but no password, so a server with users must not let a user name alone in: it answers
 * SOCKS4 and SOCKS4a with 0x5b and dials nothing, unless the operator chose {@link Socks4Policy#USERID_ONLY}.
 * Without users SOCKS4 is served as always, and SOCKS5 and HTTP authentication do not change.
 *
 * <p>"Nothing dialed" is proven by order, not by waiting: after the refused requests a granted one reaches the same
 * echo server and echoes; its listener accepts in arrival order, so a connection the server had opened for a refused
 * request would have been counted first.
 */
@Timeout(30)
class Socks4AuthenticationTest {

    private static final String REJECTED = "00 5b 00 00 00 00 00 00";
    private static final String ALICE_BASIC = Base64.getEncoder()
            .encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));

    private final Teardown teardown = new Teardown();
    private EchoServer echo;
    private EchoServer byName;

    @BeforeEach
    void setUp() throws IOException {
        echo = teardown.add(EchoServer.start(Loopback.V4));
        byName = Loopback.localhost().equals(Loopback.V4) ? echo : teardown.add(EchoServer.start(Loopback.localhost()));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private SocksServer start(SocksServerConfig config) throws IOException {
        return teardown.add(SocksServer.start(config));
    }

    private static UserList alice() {
        return UserList.of(List.of("alice:s3cret"));
    }

    private String socks4Connect(String userId) {
        return "04 01 " + WireClient.port(echo.port()) + " " + WireClient.ip(Loopback.V4) + " '" + userId + "' 00";
    }

    private String socks4aConnect(String userId) {
        return "04 01 " + WireClient.port(byName.port()) + " 00 00 00 01 '" + userId + "' 00 'localhost' 00";
    }

    private static void refused(SocksServer server, String request) throws IOException {
        try (WireClient client = WireClient.connect(server)) {
            client.send(request);
            assertThat(client.readHex(8)).as(request).isEqualTo(Hex.normalized(REJECTED));
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
    }

    private static void grantedAndEchoes(SocksServer server, String request) throws IOException {
        try (WireClient client = WireClient.connect(server)) {
            client.send(request + " 'ping'");
            assertThat(client.readHex(2)).as(request).isEqualTo("00 5a");
            client.read(6);
            assertThat(client.read(4)).asString().isEqualTo("ping");
        }
    }

    private void socks5AsAliceEchoes(SocksServer server) throws IOException {
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 02 01 05 'alice' 06 's3cret' 05 01 00 " + WireClient.socks5Address(echo.address())
                    + " 'pong'");
            assertThat(client.readHex(4)).isEqualTo("05 02 01 00");
            assertThat(client.readHex(4)).isEqualTo("05 00 00 01");
            client.read(6);
            assertThat(client.read(4)).asString().isEqualTo("pong");
        }
    }

    @Test
    void withUsersAKnownUseridGetsRejectedOverSocks4AndSocks4aAndNothingIsDialed() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(alice()));
        refused(server, socks4Connect("alice"));
        refused(server, socks4aConnect("alice"));
        refused(server, "04 02 " + WireClient.port(echo.port()) + " " + WireClient.ip(Loopback.V4) + " 'alice' 00");
        refused(server, socks4Connect("mallory"));
        refused(server, socks4Connect(""));
        assertThat(server.acceptedConnections()).isEqualTo(5);
        Eventually.noneActive("active connections", server::activeConnections);

        socks5AsAliceEchoes(server);
        assertThat(echo.connections()).as("only the SOCKS5 request reached the destination").isEqualTo(1);
        assertThat(byName.connections()).as("only the SOCKS5 request reached the destination")
                .isEqualTo(byName == echo ? 1 : 0);
    }

    @Test
    void socks5AndHttpAuthenticationAreUnchanged() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(alice()));
        socks5AsAliceEchoes(server);
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 02 01 05 'alice' 05 'wrong'");
            assertThat(client.readHex(4)).isEqualTo("05 02 01 01");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        String connect = "'CONNECT 127.0.0.1:" + echo.port() + " HTTP/1.1' 0d 0a";
        try (WireClient client = WireClient.connect(server)) {
            client.send(connect + " 0d 0a");
            assertThat(client.readToEndAscii()).startsWith("HTTP/1.1 407 ");
        }
        try (WireClient client = WireClient.connect(server)) {
            client.send(connect + " 'Proxy-Authorization: Basic " + ALICE_BASIC + "' 0d 0a 0d 0a 'http'");
            String established = "HTTP/1.1 200 Connection established\r\n\r\n";
            assertThat(new String(client.read(established.length() + 4), StandardCharsets.US_ASCII))
                    .isEqualTo(established + "http");
        }
        assertThat(echo.connections()).isEqualTo(2);
    }

    @Test
    void socks4UseridOnlyAdmitsAKnownUseridAndNoOther() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback()
                .withUsers(alice().withSocks4Policy(Socks4Policy.USERID_ONLY)));
        refused(server, socks4Connect("mallory"));
        refused(server, socks4Connect(""));
        refused(server, socks4aConnect("mallory"));
        grantedAndEchoes(server, socks4Connect("alice"));
        grantedAndEchoes(server, socks4aConnect("alice"));
        assertThat(echo.connections() + (byName == echo ? 0 : byName.connections()))
                .as("the two granted requests, and no refused one, reached the destination").isEqualTo(2);
        socks5AsAliceEchoes(server);
    }

    @Test
    void withoutUsersSocks4IsServedWhateverTheUserid() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        grantedAndEchoes(server, socks4Connect("alice"));
        grantedAndEchoes(server, socks4Connect(""));
        grantedAndEchoes(server, socks4aConnect("mallory"));
        assertThat(echo.connections() + (byName == echo ? 0 : byName.connections())).isEqualTo(3);
    }

    @Test
    void onlyTheUseridOnlyRuleIsWarnedAboutAtStart() {
        assertThat(SocksServerConfig.loopback().warnings()).isEmpty();
        assertThat(SocksServerConfig.loopback().withUsers(alice()).warnings()).isEmpty();
        assertThat(SocksServerConfig.loopback().withUsers(alice().withSocks4Policy(Socks4Policy.USERID_ONLY))
                .warnings()).singleElement().asString()
                .contains("--socks4-userid-only", "ANYONE WHO KNOWS A USER NAME GETS IN");
        assertThat(alice().socks4Policy()).as("the default").isEqualTo(Socks4Policy.REFUSE);
        assertThat(alice().withSocks4Policy(Socks4Policy.USERID_ONLY).plus(UserList.of(List.of("bob:pw")))
                .socks4Policy()).as("merging user lists keeps the policy").isEqualTo(Socks4Policy.USERID_ONLY);
    }
}
