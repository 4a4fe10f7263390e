package dev.chainsocks.e2e.peers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.SystemUser;
import dev.chainsocks.e2e.TestWorkspace;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code socks-server --socks4-identd} against Debian's oidentd, all in one namespace on loopback: the bundled
 * server, oidentd on port 113, a web server, and curl running as a throwaway system user. oidentd looks the
 * connection up in the namespace's own socket table and names its owner, so a SOCKS4 request whose user id is that
 * user is granted, and one that claims another known user is answered 0x5d; the server's log line says why, and
 * oidentd's log shows it was asked.
 */
@Tag("e2e")
class OidentdSocks4E2E {

    private static final int SERVER_PORT = 1080;
    private static final int WEB_PORT = 8080;
    private static final Duration LOG_WAIT = Duration.ofSeconds(10);

    private static TestWorkspace workspace;
    private static Netns netns;
    private static SystemUser user;
    private static HttpFileServer web;
    private static ManagedProcess oidentd;
    private static ChainsocksProcess server;

    @BeforeAll
    static void start() {
        Prerequisites.require("oidentd", "curl", "python3", "setpriv", "useradd", "userdel", "chpasswd", "ss");
        workspace = TestWorkspace.forTest("OidentdSocks4E2E");
        netns = Netns.create("identd", workspace);
        user = SystemUser.create();
        web = HttpFileServer.start(netns, WEB_PORT, 1024);
        oidentd = netns.spawnListening("oidentd", Endpoint.of("127.0.0.1", 113),
                List.of("oidentd", "--foreground", "--nosyslog", "--debug", "--address", "127.0.0.1"));
        server = ChainsocksProcess.start(netns, "socks-server", "socks-server",
                "--listen", "127.0.0.1:" + SERVER_PORT, "--user", user.name() + ":" + user.password(),
                "--user", "alice:not-used", "--socks4-identd", "--identd-timeout", "5s");
        server.waitForPort("127.0.0.1", SERVER_PORT);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (server != null) {
                server.stop();
            }
        } finally {
            if (netns != null) {
                netns.close(); // stops oidentd and the web server before the account goes
            }
            if (user != null) {
                user.close();
            }
            if (workspace != null) {
                workspace.close();
            }
        }
    }

    /** curl as the system user, through the server with SOCKS4 user id {@code userId}. */
    private static Command.Result curlAs(String userId) {
        List<String> command = new ArrayList<>(user.runAs());
        command.addAll(List.of("curl", "-sS", "--fail", "--max-time", "20",
                "--proxy", "socks4://" + userId + "@127.0.0.1:" + SERVER_PORT,
                web.url("127.0.0.1", HttpFileServer.PAGE_PATH)));
        return netns.run(Duration.ofSeconds(30), command.toArray(String[]::new));
    }

    @Test
    void theConnectionsOwnerIsGrantedAndIdentdSaysSo() {
        long lookups = oidentd.countLogLines("Successful lookup");
        Command.Result result = curlAs(user.name());
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout()).isEqualTo(web.page());
        assertThat(server.awaitLogLines(line -> line.contains(" start ")
                && line.contains("via=socks4 CONNECT user=" + user.name() + " identd=confirmed"), 1, LOG_WAIT))
                .isNotEmpty();
        assertThat(oidentd.awaitLogLines(line -> line.contains("Successful lookup"), (int) lookups + 1, LOG_WAIT)
                .get((int) lookups)).contains(" , " + SERVER_PORT + " : " + user.name());
    }

    @Test
    void anotherKnownUserIdIsAnswered0x5d() {
        int requests = web.requestLines().size();
        Command.Result result = curlAs("alice");
        assertThat(result.succeeded()).as("curl through a refused SOCKS4 request").isFalse();
        assertThat(server.awaitLogLines(line -> line.contains(" refused ") && line.contains("userid \"alice\"")
                && line.contains("the connection belongs to \"" + user.name() + "\"")
                && line.contains("IDENTD_USER_MISMATCH(0x5d)"), 1, LOG_WAIT)).isNotEmpty();
        assertThat(web.requestLines()).as("nothing reached the web server").hasSize(requests);
    }
}
