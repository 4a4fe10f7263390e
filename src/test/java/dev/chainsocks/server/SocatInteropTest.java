package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Socks4Policy;
import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** socat's SOCKS4 and SOCKS4A addresses through the bundled server to a TCP echo peer. */
@Timeout(60)
class SocatInteropTest {

    private static final String LINE = "a line through socat and chainsocks\n";

    private final Teardown teardown = new Teardown();
    private ExternalClient socat;

    @BeforeEach
    void setUp() {
        socat = ExternalClient.require("socat", "socat");
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private ExternalClient.Result roundTrip(String address) {
        return socat.runWithInput(Duration.ofSeconds(20), LINE.getBytes(StandardCharsets.UTF_8), "-t", "5", "-",
                address);
    }

    @Test
    void socks4aWithAHostNameTheServerResolves() throws IOException {
        EchoServer echo = teardown.add(EchoServer.start(Loopback.localhost()));
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
        ExternalClient.Result result = roundTrip(
                "SOCKS4A:127.0.0.1:localhost:" + echo.port() + ",socksport=" + server.port()).requireSuccess();
        assertThat(result.stdout()).isEqualTo(LINE);
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).isEqualTo(1);
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @Test
    void socks4WithAKnownUseridIsRefusedWhenUsersAreConfigured() throws IOException {
        EchoServer echo = teardown.add(EchoServer.start(Loopback.V4));
        SocksServer server = teardown.add(SocksServer.start(
                SocksServerConfig.loopback().withUsers(UserList.of(List.of("alice:s3cret")))));
        ExternalClient.Result result = roundTrip("SOCKS4:127.0.0.1:127.0.0.1:" + echo.port() + ",socksport="
                + server.port() + ",socksuser=alice");
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stdout()).isEmpty();
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).isZero();
    }

    @Test
    void socks4WithAKnownUseridAndUseridAdmission() throws IOException {
        EchoServer echo = teardown.add(EchoServer.start(Loopback.V4));
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withUsers(UserList.of(List.of("alice:s3cret")).withSocks4Policy(Socks4Policy.USERID_ONLY))));
        ExternalClient.Result result = roundTrip("SOCKS4:127.0.0.1:127.0.0.1:" + echo.port() + ",socksport="
                + server.port() + ",socksuser=alice").requireSuccess();
        assertThat(result.stdout()).isEqualTo(LINE);
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void socks4WithAnUnknownUseridIsRejected() throws IOException {
        EchoServer echo = teardown.add(EchoServer.start(Loopback.V4));
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withUsers(UserList.of(List.of("alice:s3cret")).withSocks4Policy(Socks4Policy.USERID_ONLY))));
        ExternalClient.Result result = roundTrip("SOCKS4:127.0.0.1:127.0.0.1:" + echo.port() + ",socksport="
                + server.port() + ",socksuser=mallory");
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stdout()).isEmpty();
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).isZero();
    }
}
