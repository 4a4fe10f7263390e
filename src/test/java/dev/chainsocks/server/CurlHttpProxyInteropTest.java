package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * curl using the bundled server as an HTTP proxy on the same port as SOCKS: absolute-form forwarding
 * ({@code -x}) and CONNECT tunnels ({@code -p -x}), with and without Basic proxy authentication.
 */
@Timeout(60)
class CurlHttpProxyInteropTest {

    private static final String ALICE = "alice:s3cret";

    private final Teardown teardown = new Teardown();
    private Curl curl;
    private PageServer page;

    @BeforeEach
    void setUp() throws IOException {
        curl = Curl.require();
        page = teardown.add(PageServer.start(Loopback.V4));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private SocksServer start(SocksServerConfig config) throws IOException {
        return teardown.add(SocksServer.start(config));
    }

    private static String proxyUrl(SocksServer server) {
        return "http://127.0.0.1:" + server.port();
    }

    private static void assertPage(Curl.Response response) {
        assertThat(response.exitCode()).as(response.describe()).isZero();
        assertThat(response.httpCode()).as(response.describe()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(PageServer.PAGE);
    }

    @Test
    void forwardsAnAbsoluteFormRequestWithHopByHopFieldsRemoved() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        Curl.Response response = curl.fetch("-x", proxyUrl(server), "-H", "X-Probe: through-the-proxy", page.url());
        assertPage(response);
        assertThat(server.acceptedConnections()).isEqualTo(1);
        PageServer.Request request = page.requests().get(0);
        assertThat(request.method()).isEqualTo("GET");
        assertThat(request.uri()).as("origin-form on the way to the origin").isEqualTo(PageServer.PATH);
        assertThat(request.header("Host")).isEqualTo("127.0.0.1:" + page.port());
        assertThat(request.header("X-Probe")).isEqualTo("through-the-proxy");
        assertThat(request.header("Connection")).isEqualTo("close");
        assertThat(request.header("Proxy-Connection")).isNull();
        assertThat(request.from().getAddress()).isEqualTo(Loopback.V4);
    }

    @Test
    void tunnelsWithConnect() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        Curl.Response response = curl.fetch("-p", "-x", proxyUrl(server), page.url());
        assertPage(response);
        assertThat(response.connectCode()).isEqualTo(200);
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(page.requests()).singleElement()
                .satisfies(request -> assertThat(request.uri()).isEqualTo(PageServer.PATH));
    }

    @Test
    void forwardWithoutCredentialsIs407AndNothingReachesTheOrigin() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response response = curl.fetch("-x", proxyUrl(server), page.url());
        assertThat(response.httpCode()).as(response.describe()).isEqualTo(407);
        assertThat(response.body()).contains("proxy authentication required");
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(page.requests()).isEmpty();
    }

    @Test
    void connectWithoutCredentialsIs407AndNothingReachesTheOrigin() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response response = curl.fetch("-p", "-x", proxyUrl(server), page.url());
        assertThat(response.exitCode()).as(response.describe()).isNotZero();
        assertThat(response.connectCode()).as(response.describe()).isEqualTo(407);
        assertThat(page.requests()).isEmpty();
    }

    @Test
    void wrongPasswordIs407() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response forward = curl.fetch("-x", proxyUrl(server), "--proxy-user", "alice:secret", page.url());
        assertThat(forward.httpCode()).as(forward.describe()).isEqualTo(407);
        Curl.Response tunnel = curl.fetch("-p", "-x", proxyUrl(server), "--proxy-user", "alice:secret", page.url());
        assertThat(tunnel.connectCode()).as(tunnel.describe()).isEqualTo(407);
        assertThat(page.requests()).isEmpty();
    }

    @Test
    void forwardWithCredentialsGetsThePageAndTheCredentialsStayAtTheProxy() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response response = curl.fetch("-x", proxyUrl(server), "--proxy-user", ALICE, page.url());
        assertPage(response);
        PageServer.Request request = page.requests().get(0);
        assertThat(request.header("Proxy-Authorization")).as("credentials for the proxy are not forwarded").isNull();
    }

    @Test
    void connectWithCredentialsGetsThePage() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response response = curl.fetch("-p", "-x", proxyUrl(server), "--proxy-user", ALICE, page.url());
        assertPage(response);
        assertThat(response.connectCode()).isEqualTo(200);
        assertThat(page.requests()).singleElement()
                .satisfies(request -> assertThat(request.header("Proxy-Authorization")).isNull());
    }

    @Test
    void forwardsAndTunnelsToAnIpv6Origin() throws IOException {
        PageServer page6 = teardown.add(PageServer.start(Loopback.v6OrSkip()));
        SocksServer server = start(SocksServerConfig.loopback());
        assertPage(curl.fetch("-x", proxyUrl(server), page6.url()));
        assertPage(curl.fetch("-p", "-x", proxyUrl(server), page6.url()));
        assertThat(page6.requests()).hasSize(2);
        assertThat(page6.requests().get(0).header("Host")).isEqualTo("[::1]:" + page6.port());
        assertThat(server.acceptedConnections()).isEqualTo(2);
    }

    @Test
    void originThatRefusesIs502() throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        int closed;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, Loopback.V4)) {
            closed = probe.getLocalPort();
        }
        Curl.Response response = curl.fetch("-x", proxyUrl(server), "http://127.0.0.1:" + closed + "/");
        assertThat(response.httpCode()).as(response.describe()).isEqualTo(502);
    }
}
