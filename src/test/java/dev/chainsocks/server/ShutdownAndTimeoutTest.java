package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ends a session can meet that the client does not choose: the idle timeout of an established relay, and the
 * server shutting down under sessions in every state.
 */
@Timeout(60)
class ShutdownAndTimeoutTest {

    private final Teardown teardown = new Teardown();
    private EchoServer echo;

    @BeforeEach
    void setUp() throws IOException {
        echo = teardown.add(EchoServer.start(Loopback.V4));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private WireClient connected(SocksServer server) throws IOException {
        WireClient client = teardown.add(WireClient.connect(server));
        client.send("05 01 00 05 01 00 " + WireClient.socks5Address(echo.address()));
        assertThat(client.readHex(6)).isEqualTo("05 00 05 00 00 01");
        client.read(6);
        return client;
    }

    @Test
    void anIdleRelayIsClosedAndABusyOneIsNot() throws IOException, InterruptedException {
        Duration idle = Duration.ofMillis(3000);
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), idle)));
        long start = System.nanoTime();
        WireClient quiet = connected(server);
        WireClient busy = connected(server);
        // The busy client talks in small steps, far more often than the idle timeout, until the quiet relay has
        // been closed: the end of the loop is that event, not a count of steps.
        String quietEnd = null;
        while (quietEnd == null) {
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the quiet relay is closed in time")
                    .isLessThan(idle.multipliedBy(5));
            busy.send("'.'");
            assertThat(busy.readHex(1)).isEqualTo("2e");
            quietEnd = quiet.closedWithin(Duration.ofMillis(200));
        }
        assertThat(quietEnd).isIn("eof", "reset");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("not before the idle timeout")
                .isGreaterThanOrEqualTo(idle);
        busy.send("'still here'");
        assertThat(busy.read(10)).asString().isEqualTo("still here");
        // The quiet client sees its close a moment before the loop counts the session out.
        Eventually.until("one active connection, the busy one", () -> server.activeConnections() == 1);
    }

    @Test
    void anIdleUdpAssociationEnds() throws IOException {
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofMillis(300))));
        WireClient control = teardown.add(WireClient.connect(server));
        control.send("05 01 00 05 03 00 01 00 00 00 00 00 00");
        assertThat(control.readHex(4)).isEqualTo("05 00 05 00");
        control.read(8);
        assertThat(control.awaitClose(Duration.ofSeconds(3))).isEqualTo("eof");
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @Test
    void closingTheServerEndsSessionsInEveryStateAndReleasesTheirSockets() throws Exception {
        long before = openFileDescriptors();
        SocksServer server = SocksServer.start(SocksServerConfig.loopback());
        int port = server.port();
        boolean closed = false;
        try {
            WireClient relaying = connected(server);
            WireClient handshaking = teardown.add(WireClient.connect(server));
            handshaking.send("05 01 00");
            assertThat(handshaking.readHex(2)).isEqualTo("05 00");
            WireClient binding = teardown.add(WireClient.connect(server));
            binding.send("05 01 00 05 02 00 01 7f 00 00 01 00 00");
            assertThat(binding.readHex(8)).isEqualTo("05 00 05 00 00 01 7f 00");
            int bindPort = WireClient.portAt(binding.read(4), 2);
            WireClient associating = teardown.add(WireClient.connect(server));
            associating.send("05 01 00 05 03 00 01 00 00 00 00 00 00");
            assertThat(associating.readHex(4)).isEqualTo("05 00 05 00");
            associating.read(8);
            Eventually.until(Duration.ofSeconds(5), () -> server.activeConnections() == 4,
                    () -> "4 active sessions, have " + server.activeConnections());

            server.close();
            closed = true;

            for (WireClient client : new WireClient[] {relaying, handshaking, binding, associating}) {
                assertThat(client.awaitClose()).isIn("eof", "reset");
            }
            assertThat(server.activeConnections()).isZero();
            assertRefused(port);
            assertRefused(bindPort);
        } finally {
            if (!closed) {
                server.close();
            }
        }
        teardown.close();
        Eventually.until(Duration.ofSeconds(10), () -> echo.openConnections() == 0, () -> "echo connections closed");
        long after = openFileDescriptors();
        assertThat(after - before).as("file descriptors before %d, after %d", before, after).isLessThanOrEqualTo(10);
    }

    private static void assertRefused(int port) {
        assertThatThrownBy(() -> {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress(Loopback.V4, port), 2000);
            }
        }).as("port %d no longer listens", port).isInstanceOf(ConnectException.class);
    }

    private static long openFileDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
