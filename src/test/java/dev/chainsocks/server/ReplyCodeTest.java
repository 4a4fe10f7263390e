package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Hex;
import dev.chainsocks.syntax.Cidr;
import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bundled server's answers, byte for byte, for requests it cannot carry out: each reply must say why, then
 * the server closes. {@code {closed}} in a vector is a loopback port nobody listens on, {@code {echo}} the echo
 * server's.
 *
 * <p>Not covered: the connect timeout reply (TTL expired). Provoking it needs a destination that swallows SYNs,
 * which on loopback means firewall rules; this suite sends no traffic off the machine and needs no root.
 */
@Timeout(30)
class ReplyCodeTest {

    private static final String ZERO_BOUND = "01 00 00 00 00 00 00";

    private final Teardown teardown = new Teardown();
    private final InetAddress lo = InetAddress.getLoopbackAddress();
    private EchoServer echo;
    private int closedPort;

    @BeforeEach
    void setUp() throws IOException {
        echo = teardown.add(EchoServer.start(lo));
        try (ServerSocket probe = new ServerSocket(0, 1, lo)) {
            closedPort = probe.getLocalPort();
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private SocksServer start(SocksServerConfig config) throws IOException {
        return teardown.add(SocksServer.start(config));
    }

    private String vector(String hex) {
        return hex.replace("{closed}", WireClient.port(closedPort)).replace("{echo}", WireClient.port(echo.port()));
    }

    static Stream<Arguments> socks5Requests() {
        return Stream.of(
                Arguments.of("connection refused", "05 01 00 01 7f 00 00 01 {closed}", "05 05 00 " + ZERO_BOUND),
                Arguments.of("unknown command 0x09", "05 09 00 01 7f 00 00 01 {echo}", "05 07 00 " + ZERO_BOUND),
                Arguments.of("unknown address type 0x07", "05 01 00 07 7f 00 00 01 {echo}", "05 08 00 " + ZERO_BOUND),
                Arguments.of("version 4 inside a SOCKS5 request", "04 01 00 01 7f 00 00 01 {echo}",
                        "05 01 00 " + ZERO_BOUND));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("socks5Requests")
    void socks5RequestFailuresAreAnsweredWithTheirReplyCodeThenClosed(String name, String request, String reply)
            throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00");
            assertThat(client.readHex(2)).isEqualTo("05 00");
            client.send(vector(request));
            assertThat(client.readHex(10)).as(name).isEqualTo(Hex.normalized(reply));
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).as("nothing reached the echo server").isZero();
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @Test
    void clientOfferingOnlyGssapiGetsNoAcceptableMethodsThenClose() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 01");
            assertThat(client.readHex(2)).isEqualTo("05 ff");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @Test
    void clientWithoutPasswordMethodGetsNoAcceptableMethodsWhenUsersAreConfigured() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of("alice:s3cret"))));
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00");
            assertThat(client.readHex(2)).isEqualTo("05 ff");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
    }

    @Test
    void wrongPasswordGetsFailureStatusThenClose() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of("alice:s3cret"))));
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 02 00 02");
            assertThat(client.readHex(2)).isEqualTo("05 02");
            client.send("01 05 'alice' 06 'secret'");
            assertThat(client.readHex(2)).isEqualTo("01 01");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 02");
            assertThat(client.readHex(2)).isEqualTo("05 02");
            client.send("01 05 'alice' 06 's3cret'");
            assertThat(client.readHex(2)).as("the right password still works").isEqualTo("01 00");
            client.send(vector("05 01 00 01 7f 00 00 01 {echo}"));
            assertThat(client.readHex(4)).isEqualTo("05 00 00 01");
            client.read(6);
            client.send("'hello'");
            assertThat(new String(client.read(5), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("hello");
        }
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void clientOutsideAllowFromGetsNotAllowedByRuleset() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withAllowFrom(List.of(Cidr.parse("10.0.0.0/8"))));
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00");
            assertThat(client.readHex(2)).isEqualTo("05 00");
            client.send(vector("05 01 00 01 7f 00 00 01 {echo}"));
            assertThat(client.readHex(10)).isEqualTo(Hex.normalized("05 02 00 " + ZERO_BOUND));
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        try (WireClient client = WireClient.connect(server)) {
            client.send(vector("04 01 {echo} 7f 00 00 01 00"));
            assertThat(client.readHex(8)).isEqualTo("00 5b 00 00 00 00 00 00");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        assertThat(echo.connections()).as("the server never connected for a client it does not admit").isZero();
        assertThat(server.acceptedConnections()).isEqualTo(2);
    }

    @Test
    void clientInsideAllowFromIsServed() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withAllowFrom(
                List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("127.0.0.0/8"))));
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00");
            assertThat(client.readHex(2)).isEqualTo("05 00");
            client.send(vector("05 01 00 01 7f 00 00 01 {echo}"));
            assertThat(client.readHex(4)).isEqualTo("05 00 00 01");
        }
        // The reply can reach us before the echo server's accept thread has counted the connection.
        Eventually.until(java.time.Duration.ofSeconds(5), () -> echo.connections() == 1,
                () -> "one connection at the echo server, got " + echo.connections());
    }

    @Test
    void socks4ConnectionRefusedIsRejectedOrFailed() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        try (WireClient client = WireClient.connect(server)) {
            client.send(vector("04 01 {closed} 7f 00 00 01 'bob' 00"));
            assertThat(client.readHex(8)).isEqualTo("00 5b 00 00 00 00 00 00");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        try (WireClient client = WireClient.connect(server)) {
            client.send(vector("04 01 {closed} 00 00 00 01 00 'localhost' 00"));
            assertThat(client.readHex(8)).as("SOCKS4a").isEqualTo("00 5b 00 00 00 00 00 00");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        assertThat(server.acceptedConnections()).isEqualTo(2);
    }

    @Test
    void socks4UnknownCommandIsRejected() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        try (WireClient client = WireClient.connect(server)) {
            client.send(vector("04 03 {echo} 7f 00 00 01 00"));
            assertThat(client.readHex(8)).isEqualTo("00 5b 00 00 00 00 00 00");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        assertThat(echo.connections()).isZero();
    }

    @Test
    void httpConnectFailuresAreStatusCodes() throws IOException {
        SocksServer refusing = start(SocksServerConfig.loopback());
        try (WireClient client = WireClient.connect(refusing)) {
            client.send("'CONNECT 127.0.0.1:" + closedPort + " HTTP/1.1' 0d 0a 'Host: 127.0.0.1:" + closedPort
                    + "' 0d 0a 0d 0a");
            assertThat(client.readToEndAscii()).startsWith("HTTP/1.1 502 Bad Gateway\r\n")
                    .contains("connection refused");
        }
        SocksServer excluding = start(SocksServerConfig.loopback()
                .withAllowFrom(List.of(Cidr.parse("10.0.0.0/8"))));
        try (WireClient client = WireClient.connect(excluding)) {
            client.send("'CONNECT 127.0.0.1:" + echo.port() + " HTTP/1.1' 0d 0a 0d 0a");
            assertThat(client.readToEndAscii()).startsWith("HTTP/1.1 403 Forbidden\r\n");
        }
        try (WireClient client = WireClient.connect(refusing)) {
            client.send("'GET /page HTTP/1.1' 0d 0a 'Host: 127.0.0.1' 0d 0a 0d 0a");
            assertThat(client.readToEndAscii()).as("origin-form to a proxy").startsWith("HTTP/1.1 400 Bad Request\r\n");
        }
        assertThat(echo.connections()).isZero();
    }

    @Test
    void unreachableDestinationOnIpv6LoopbackPortIsRefusedToo() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        InetSocketAddress closedV6 = new InetSocketAddress(Loopback.v6OrSkip(), closedPort);
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00");
            assertThat(client.readHex(2)).isEqualTo("05 00");
            client.send("05 01 00 " + WireClient.socks5Address(closedV6));
            assertThat(client.readHex(2)).isEqualTo("05 05");
        }
    }
}
