package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * nmap's ncat through the bundled server to a TCP echo peer. ncat half-closes when its stdin ends, so a line that
 * comes back whole also shows the server passing the half-close on and ending the relay when the echo side closes.
 */
@Timeout(60)
class NcatInteropTest {

    private static final String LINE = "a line through ncat and chainsocks\n";

    private final Teardown teardown = new Teardown();
    private ExternalClient ncat;
    private EchoServer echo;

    @BeforeEach
    void setUp() throws IOException {
        ncat = ExternalClient.require("ncat", "ncat");
        echo = teardown.add(EchoServer.start(Loopback.V4));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private SocksServer start(SocksServerConfig config) throws IOException {
        return teardown.add(SocksServer.start(config));
    }

    private ExternalClient.Result ncat(SocksServer server, String type, String... extra) {
        List<String> args = new ArrayList<>(List.of("--proxy", "127.0.0.1:" + server.port(), "--proxy-type", type,
                "--wait", "5"));
        args.addAll(List.of(extra));
        args.addAll(List.of("127.0.0.1", Integer.toString(echo.port())));
        return ncat.runWithInput(Duration.ofSeconds(20), LINE.getBytes(StandardCharsets.UTF_8),
                args.toArray(String[]::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"socks4", "socks5", "http"})
    void echoesALine(String type) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        ExternalClient.Result result = ncat(server, type).requireSuccess();
        assertThat(result.stdout()).isEqualTo(LINE);
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).isEqualTo(1);
        assertThat(echo.brokenConnections()).isZero();
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @ParameterizedTest
    @ValueSource(strings = {"socks5", "http"})
    void echoesALineAsAKnownUser(String type) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of("alice:s3cret"))));
        ExternalClient.Result result = ncat(server, type, "--proxy-auth", "alice:s3cret").requireSuccess();
        assertThat(result.stdout()).isEqualTo(LINE);
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void socks5WithAWrongPasswordFails() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of("alice:s3cret"))));
        ExternalClient.Result result = ncat(server, "socks5", "--proxy-auth", "alice:secret");
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stdout()).isEmpty();
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).isZero();
    }
}
