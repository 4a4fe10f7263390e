package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Hex;
import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Clients that misbehave: garbage, silence, half a greeting, many at once, many one after another. Each must end
 * cleanly, release what it held, and leave the server serving.
 */
@Timeout(120)
class RobustnessTest {

    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofMillis(300);

    private final Teardown teardown = new Teardown();
    private EchoServer echo;
    private SocksServer server;

    @BeforeEach
    void setUp() throws IOException {
        echo = teardown.add(EchoServer.start(Loopback.V4));
        server = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withTimeouts(HANDSHAKE_TIMEOUT, Duration.ofSeconds(5), Duration.ofMinutes(5))));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    /** A CONNECT to the echo server and one byte each way: the server still serves. */
    private void assertStillServing() throws IOException {
        int before = echo.connections();
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00 05 01 00 " + WireClient.socks5Address(echo.address()));
            assertThat(client.readHex(2)).isEqualTo("05 00");
            assertThat(client.readHex(4)).isEqualTo("05 00 00 01");
            client.read(6);
            client.send("'!'");
            assertThat(client.readHex(1)).isEqualTo(Hex.normalized("'!'"));
        }
        assertThat(echo.connections()).isEqualTo(before + 1);
    }

    static Stream<Arguments> garbage() {
        byte[] random = new byte[64];
        new Random(20240917).nextBytes(random);
        random[0] = (byte) 0x8f;
        return Stream.of(
                Arguments.of("TLS ClientHello", "16 03 01 02 00 01 00 01 fc 03 03 5a 5a 5a 5a", ""),
                Arguments.of("NUL", "00", ""),
                Arguments.of("0xff", "ff ff ff ff", ""),
                Arguments.of("lower-case letter", "'get / http/1.1' 0d 0a 0d 0a", ""),
                Arguments.of("random bytes", Hex.of(random), ""),
                Arguments.of("SOCKS5 greeting with no methods (malformed, nothing to answer)", "05 00", ""),
                Arguments.of("SOCKS4 with command 0x00", "04 00 00 50 7f 00 00 01 00", "00 5b 00 00 00 00 00 00"),
                Arguments.of("SOCKS4 userid that never ends", "04 01 00 50 7f 00 00 01 'alice'", null),
                Arguments.of("HTTP with a binary request line", "'GET ' 00 01 02 ' HTTP/1.1' 0d 0a 0d 0a",
                        "'HTTP/1.1 400 Bad Request'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("garbage")
    void garbageIsClosedCleanlyAndTheServerKeepsServing(String name, String bytes, String answer)
            throws IOException {
        try (WireClient client = WireClient.connect(server)) {
            client.send(bytes);
            if (answer == null) {
                assertThat(client.awaitClose(Duration.ofSeconds(3))).as("dropped at the handshake deadline")
                        .isIn("eof", "reset");
            } else {
                byte[] expected = Hex.bytes(answer);
                assertThat(client.readHex(expected.length)).isEqualTo(Hex.of(expected));
                if (answer.startsWith("'HTTP")) {
                    client.readToEnd();
                } else {
                    assertThat(client.awaitClose()).isEqualTo("eof");
                }
            }
        }
        Eventually.noneActive("active connections", server::activeConnections);
        assertStillServing();
        assertThat(echo.connections()).as("no garbage reached the echo server").isEqualTo(1);
    }

    @Test
    void aSilentClientIsDroppedAtTheHandshakeTimeout() throws IOException {
        try (WireClient client = WireClient.connect(server)) {
            long start = System.nanoTime();
            assertThat(client.awaitClose(Duration.ofSeconds(5))).isEqualTo("eof");
            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            assertThat(waited).isBetween(HANDSHAKE_TIMEOUT.minusMillis(50), Duration.ofSeconds(3));
        }
        Eventually.noneActive("active connections", server::activeConnections);
        assertStillServing();
    }

    /**
     * A SOCKS4a host name dribbled one byte every 60 ms for 1.5 s: a deadline per read would never fire while bytes
     * keep coming, the handshake deadline must.
     */
    @Test
    void theHandshakeDeadlineCoversTheWholeHandshakeNotEachByte() throws IOException, InterruptedException {
        try (WireClient client = WireClient.connect(server)) {
            long start = System.nanoTime();
            try {
                client.send("04 01 00 50 00 00 00 01 00");
                for (int i = 0; i < 25; i++) {
                    Thread.sleep(60);
                    client.send("'a'");
                }
            } catch (IOException closedWhileDribbling) {
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
                return;
            }
            assertThat(client.awaitClose(Duration.ofMillis(100))).as("closed while the client was still sending")
                    .isIn("eof", "reset");
        } finally {
            Eventually.noneActive("active connections", server::activeConnections);
        }
    }

    /** EOF in the middle of a message ends the session then, not at the handshake deadline (10 s here). */
    @Test
    void halfAGreetingThenEofIsClosedAtOnce() throws IOException {
        SocksServer patient = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
        for (String partial : List.of("05", "05 02 00", "05 01 00 05 01 00 01 7f 00", "04 01 00 50 7f 00 00 01 'us'",
                "'CONNECT 127.0.0.1:80 HTT'")) {
            try (WireClient client = WireClient.connect(patient)) {
                client.send(partial);
                client.socket().shutdownOutput();
                long start = System.nanoTime();
                client.readToEnd();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as(partial)
                        .isLessThan(Duration.ofSeconds(3));
            }
        }
        Eventually.noneActive("active connections", patient::activeConnections);
        assertStillServing();
    }

    @Test
    void twoHundredConcurrentSessionsAllEnd() throws IOException {
        List<WireClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                WireClient client = WireClient.connect(server);
                clients.add(client);
                client.send("05 01 00 05 01 00 " + WireClient.socks5Address(echo.address()));
            }
            for (WireClient client : clients) {
                assertThat(client.readHex(6)).isEqualTo("05 00 05 00 00 01");
                client.read(6);
            }
            Eventually.until(Duration.ofSeconds(10), () -> server.activeConnections() == 200,
                    () -> "200 active connections, have " + server.activeConnections());
            for (WireClient client : clients) {
                client.send("'x'");
            }
            for (WireClient client : clients) {
                assertThat(client.readHex(1)).isEqualTo("78");
            }
            assertThat(echo.connections()).isEqualTo(200);
        } finally {
            for (WireClient client : clients) {
                client.close();
            }
        }
        Eventually.noneActive("active connections", server::activeConnections);
        Eventually.until(Duration.ofSeconds(10), () -> echo.openConnections() == 0,
                () -> "echo side closed too, still " + echo.openConnections());
        assertThat(server.acceptedConnections()).isEqualTo(200);
        assertStillServing();
    }

    @Test
    void aConnectionAboveTheLimitIsTurnedAwayAndServedOnceThereIsRoom() throws IOException {
        SocksServer limited = teardown.add(SocksServer.start(SocksServerConfig.loopback().withMaxConnections(2)));
        try (WireClient first = WireClient.connect(limited); WireClient second = WireClient.connect(limited)) {
            first.send("05 01 00");
            second.send("05 01 00");
            assertThat(first.readHex(2)).isEqualTo("05 00");
            assertThat(second.readHex(2)).isEqualTo("05 00");
            // The reset can beat the client's own connect() on loopback: then connect itself reports it.
            try (WireClient third = WireClient.connect(limited)) {
                assertThat(third.awaitClose()).as("reset at once, without a word").isIn("eof", "reset");
            } catch (java.net.SocketException resetWhileConnecting) {
                assertThat(resetWhileConnecting).hasMessageContaining("reset");
            }
        }
        Eventually.noneActive("active connections", limited::activeConnections);
        try (WireClient later = WireClient.connect(limited)) {
            later.send("05 01 00");
            assertThat(later.readHex(2)).isEqualTo("05 00");
        }
    }

    @Test
    void fiveHundredSessionsLeakNoFileDescriptors() throws IOException {
        SocksServer withUsers = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withUsers(UserList.of(List.of("alice:s3cret")))));
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, Loopback.V4)) {
            closedPort = probe.getLocalPort();
        }
        for (int i = 0; i < 16; i++) {
            oneSession(i, withUsers, closedPort);
        }
        settle(withUsers);
        long before = openFileDescriptors();
        for (int i = 0; i < 500; i++) {
            oneSession(i, withUsers, closedPort);
        }
        settle(withUsers);
        long after = openFileDescriptors();
        assertThat(after - before).as("file descriptors before %d, after %d", before, after).isLessThanOrEqualTo(10);
        assertStillServing();
    }

    private void settle(SocksServer withUsers) {
        Eventually.noneActive("active connections", server::activeConnections);
        Eventually.noneActive("active connections", withUsers::activeConnections);
        Eventually.until(Duration.ofSeconds(10), () -> echo.openConnections() == 0,
                () -> "echo side closed, still " + echo.openConnections());
    }

    /** One of eight kinds of session, succeeding or failing in different places. */
    private void oneSession(int i, SocksServer withUsers, int closedPort) throws IOException {
        String echoAddress = WireClient.socks5Address(echo.address());
        switch (i % 8) {
            case 0 -> {
                try (WireClient client = WireClient.connect(server)) {
                    client.send("05 01 00 05 01 00 " + echoAddress + " 'ping'");
                    client.read(12);
                    assertThat(client.read(4)).asString().isEqualTo("ping");
                }
            }
            case 1 -> {
                try (WireClient client = WireClient.connect(server)) {
                    client.send("05 01 00 05 01 00 01 7f 00 00 01 " + WireClient.port(closedPort));
                    assertThat(client.readHex(4)).isEqualTo("05 00 05 05");
                    client.readToEnd();
                }
            }
            case 2 -> {
                try (WireClient client = WireClient.connect(server)) {
                    client.send("16 03 01 00");
                    client.awaitClose();
                }
            }
            case 3 -> {
                try (WireClient client = WireClient.connect(withUsers)) {
                    client.send("05 01 02 01 05 'alice' 05 'wrong'");
                    assertThat(client.readHex(4)).isEqualTo("05 02 01 01");
                    client.awaitClose();
                }
            }
            case 4 -> {
                try (WireClient client = WireClient.connect(server)) {
                    client.send("04 01 " + WireClient.port(echo.port()) + " 7f 00 00 01 00 'ping'");
                    assertThat(client.readHex(2)).isEqualTo("00 5a");
                    client.read(6);
                    assertThat(client.read(4)).asString().isEqualTo("ping");
                    client.socket().shutdownOutput();
                    client.readToEnd();
                }
            }
            case 5 -> {
                try (WireClient client = WireClient.connect(server)) {
                    client.send("05 01 00 05 02 00 01 7f 00 00 01 00 00");
                    client.read(12);
                }
            }
            case 6 -> {
                try (WireClient client = WireClient.connect(server)) {
                    client.send("05 01 00 05 03 00 01 00 00 00 00 00 00");
                    assertThat(client.readHex(4)).isEqualTo("05 00 05 00");
                    client.read(8);
                }
            }
            default -> {
                try (WireClient client = WireClient.connect(withUsers)) {
                    client.send("'CONNECT " + echo.address().getAddress().getHostAddress() + ":" + echo.port()
                            + " HTTP/1.1' 0d 0a 0d 0a");
                    assertThat(client.readToEndAscii()).startsWith("HTTP/1.1 407 ");
                }
            }
        }
    }

    private static long openFileDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void anIpv6ClientIsServedLikeAnIpv4One() throws IOException {
        Loopback.v6OrSkip();
        SocksServer server6 = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withListen(List.of(new InetSocketAddress(Loopback.V6, 0)))));
        try (WireClient client = WireClient.connect(server6)) {
            client.send("ff");
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        Eventually.noneActive("active connections", server6::activeConnections);
    }
}
