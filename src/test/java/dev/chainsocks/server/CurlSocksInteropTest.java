package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Socks4Policy;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * curl as a SOCKS4, SOCKS4a and SOCKS5 client of the bundled server, fetching a page from a loopback origin. A
 * fetch counts only if the page arrives whole, the server accepted the connection and the origin saw the request
 * coming from the server.
 */
@Timeout(60)
class CurlSocksInteropTest {

    private static final String ALICE = "alice:s3cret";

    private final Teardown teardown = new Teardown();
    private Curl curl;
    private PageServer page;
    private PageServer localhostPage;

    @BeforeEach
    void setUp() throws IOException {
        curl = Curl.require();
        page = teardown.add(PageServer.start(Loopback.V4));
        localhostPage = Loopback.localhost().equals(Loopback.V4) ? page
                : teardown.add(PageServer.start(Loopback.localhost()));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private SocksServer start(SocksServerConfig config) throws IOException {
        return teardown.add(SocksServer.start(config));
    }

    private static String proxy(SocksServer server) {
        return "127.0.0.1:" + server.port();
    }

    /** Plain SOCKS4 and SOCKS5 let curl resolve and send an IP; 4a and 5-hostname send the name "localhost". */
    private String urlFor(String flag) {
        return flag.equals("--socks4a") || flag.equals("--socks5-hostname")
                ? "http://localhost:" + localhostPage.port() + PageServer.PATH : page.url();
    }

    private PageServer originFor(String flag) {
        return flag.equals("--socks4a") || flag.equals("--socks5-hostname") ? localhostPage : page;
    }

    private void assertFetched(Curl.Response response, SocksServer server, PageServer origin, long acceptedBefore,
            int requestsBefore) {
        assertThat(response.exitCode()).as(response.describe()).isZero();
        assertThat(response.httpCode()).as(response.describe()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(PageServer.PAGE);
        assertThat(server.acceptedConnections()).isEqualTo(acceptedBefore + 1);
        List<PageServer.Request> requests = origin.requests();
        assertThat(requests).hasSize(requestsBefore + 1);
        PageServer.Request request = requests.get(requests.size() - 1);
        assertThat(request.uri()).isEqualTo(PageServer.PATH);
        assertThat(request.from().getAddress()).as("the origin was reached from the server's side")
                .isEqualTo(origin.address().getAddress());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--socks4", "--socks4a", "--socks5", "--socks5-hostname"})
    void fetchesThePageWithoutAuthentication(String flag) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        Curl.Response response = curl.fetch(flag, proxy(server), urlFor(flag));
        assertFetched(response, server, originFor(flag), 0, 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--socks5", "--socks5-hostname"})
    void fetchesThePageAsAKnownUser(String flag) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response response = curl.fetch(flag, proxy(server), "--proxy-user", ALICE, urlFor(flag));
        assertFetched(response, server, originFor(flag), 0, 0);
    }

    /** curl sends the user name as the SOCKS4 USERID; it passes only where the operator chose user-id admission. */
    @ParameterizedTest
    @ValueSource(strings = {"--socks4", "--socks4a"})
    void socks4FetchesAsAKnownUseridOnlyWithUseridAdmission(String flag) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))
                .withSocks4Policy(Socks4Policy.USERID_ONLY)));
        Curl.Response response = curl.fetch(flag, proxy(server), "--proxy-user", ALICE, urlFor(flag));
        assertFetched(response, server, originFor(flag), 0, 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--socks4", "--socks4a"})
    void socks4WithAKnownUseridIsRefusedWhenUsersAreConfigured(String flag) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response response = curl.fetch(flag, proxy(server), "--proxy-user", ALICE, urlFor(flag));
        assertThat(response.exitCode()).as(response.describe()).isNotZero();
        assertThat(response.body()).isEmpty();
        assertThat(server.acceptedConnections()).as("curl did reach the server").isEqualTo(1);
        assertThat(originFor(flag).requests()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"--socks4", "--socks4a", "--socks5", "--socks5-hostname"})
    void withoutCredentialsNothingReachesTheOrigin(String flag) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response response = curl.fetch(flag, proxy(server), urlFor(flag));
        assertThat(response.exitCode()).as(response.describe()).isNotZero();
        assertThat(response.body()).isEmpty();
        assertThat(server.acceptedConnections()).as("curl did reach the server").isEqualTo(1);
        assertThat(originFor(flag).requests()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"--socks5", "--socks5-hostname"})
    void wrongPasswordFailsAndNothingReachesTheOrigin(String flag) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))));
        Curl.Response response = curl.fetch(flag, proxy(server), "--proxy-user", "alice:secret", urlFor(flag));
        assertThat(response.exitCode()).as(response.describe()).isNotZero();
        assertThat(response.body()).isEmpty();
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(originFor(flag).requests()).isEmpty();
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--socks4", "--socks4a"})
    void socks4UseridThatIsNotAUserIsRejected(String flag) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback().withUsers(UserList.of(List.of(ALICE))
                .withSocks4Policy(Socks4Policy.USERID_ONLY)));
        Curl.Response response = curl.fetch(flag, proxy(server), "--proxy-user", "mallory:s3cret", urlFor(flag));
        assertThat(response.exitCode()).as(response.describe()).isNotZero();
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(originFor(flag).requests()).isEmpty();
    }

    /**
     * Proves the server, not curl, resolved the name: curl is told "localhost" means 127.0.0.9 (where nothing
     * listens), which it would use if it resolved locally; with a hostname-carrying SOCKS the page still arrives.
     */
    @ParameterizedTest
    @ValueSource(strings = {"--socks4a", "--socks5-hostname"})
    void theServerResolvesTheHostName(String flag) throws IOException {
        SocksServer server = start(SocksServerConfig.loopback());
        String pin = "localhost:" + localhostPage.port() + ":127.0.0.9";
        Curl.Response response = curl.fetch(flag, proxy(server), "--resolve", pin, urlFor(flag));
        assertFetched(response, server, localhostPage, 0, 0);
        assertThat(localhostPage.requests().get(0).header("Host")).isEqualTo("localhost:" + localhostPage.port());
    }

    @Test
    void ipv6ListenerAndIpv6Origin() throws IOException {
        PageServer page6 = teardown.add(PageServer.start(Loopback.v6OrSkip()));
        SocksServer server = start(SocksServerConfig.loopback()
                .withListen(List.of(new InetSocketAddress(Loopback.V6, 0))));
        assertThat(server.boundAddresses()).singleElement()
                .satisfies(address -> assertThat(address.getAddress()).isEqualTo(Loopback.V6));
        Curl.Response response = curl.fetch("--socks5", "[::1]:" + server.port(), page6.url());
        assertFetched(response, server, page6, 0, 0);
    }

    @Test
    void oneServerListensOnBothLoopbacks() throws IOException {
        Loopback.v6OrSkip();
        SocksServer server = start(SocksServerConfig.loopback().withListen(
                List.of(new InetSocketAddress(Loopback.V4, 0), new InetSocketAddress(Loopback.V6, 0))));
        assertThat(server.boundAddresses()).hasSize(2);
        InetSocketAddress v6 = server.boundAddresses().get(1);
        assertFetched(curl.fetch("--socks5", proxy(server), page.url()), server, page, 0, 0);
        assertFetched(curl.fetch("--socks5", "[::1]:" + v6.getPort(), page.url()), server, page, 1, 1);
    }
}
