package dev.chainsocks.e2e;

import static dev.chainsocks.e2e.GatewayTopology.GW_WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V6;
import static dev.chainsocks.e2e.GatewayTopology.WAN_HOSTNAME;
import static dev.chainsocks.e2e.GatewayTopology.WAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Proves the harness itself, without chainsocks: the gateway topology routes both address families, every real peer
 * proxy relays a plain curl, redsocks behind an iptables REDIRECT in {@code gw} makes a {@code lan} client's
 * connection transparent (so REDIRECT and SO_ORIGINAL_DST work on this kernel), the byte-stream checker moves 50 MB
 * intact, and teardown leaves no namespace behind. If this class fails, chainsocks' e2e failures mean nothing.
 */
@Tag("e2e")
class HarnessSelfTestE2E {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final int HTTP_PORT = 8080;
    private static final int STREAM_PORT = 9000;
    private static final long BIG_FILE_BYTES = 20L << 20;
    private static final long STREAM_BYTES = 50L << 20;

    private static GatewayTopology topology;
    private static final List<AutoCloseable> opened = new ArrayList<>();
    private static HttpFileServer web;
    private static ByteStreamServer stream;
    private static SystemUser danteUser;
    private static Dante dante;
    private static Dante danteWithAuth;
    private static SshDynamicProxy sshProxy;
    private static Microsocks microsocks;
    private static Tinyproxy tinyproxy;

    @BeforeAll
    static void startTopologyAndPeers() {
        Prerequisites.require("iptables", "ip6tables", "ss", "sysctl", "curl", "python3", "python3-socks", "danted",
                "sshd", "ssh", "ssh-keygen", "microsocks", "tinyproxy", "redsocks", "useradd", "userdel", "chpasswd");
        TestWorkspace workspace = TestWorkspace.forTest("HarnessSelfTestE2E");
        topology = GatewayTopology.create(workspace);
        Netns wan = topology.wan();
        web = keep(HttpFileServer.start(wan, HTTP_PORT, BIG_FILE_BYTES));
        stream = keep(ByteStreamServer.start(wan, STREAM_PORT));
        dante = keep(Dante.in(wan).listen(WAN_V4, 1080).listen(WAN_V6, 1080).external(WAN_IF).start());
        danteUser = keep(SystemUser.create());
        danteWithAuth = keep(Dante.in(wan).listen(WAN_V4, 1082).external(WAN_IF).requireUsername(danteUser).start());
        sshProxy = keep(SshDynamicProxy.start(wan, Endpoint.of(WAN_V4, 2222), wan, Endpoint.of(WAN_V4, 1081)));
        microsocks = keep(Microsocks.start(wan, Endpoint.of(WAN_V4, 1083), new Credentials("micro", "m1cro-pass")));
        tinyproxy = keep(Tinyproxy.start(wan, Endpoint.of(WAN_V4, 8888), new Credentials("tiny", "t1ny-pass")));
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            for (int i = opened.size() - 1; i >= 0; i--) {
                opened.get(i).close();
            }
        } finally {
            if (topology != null) {
                topology.close();
            }
        }
        assertThat(Netns.leftoversOfThisRun()).as("namespaces left by this run").isEmpty();
        if (danteUser != null) {
            assertThat(Command.run(List.of("id", danteUser.name()), Command.DEFAULT_TIMEOUT).succeeded())
                    .as("throwaway user removed").isFalse();
        }
    }

    private static <T extends AutoCloseable> T keep(T resource) {
        opened.add(resource);
        return resource;
    }

    private static String page(String host) {
        return web.url(host, HttpFileServer.PAGE_PATH);
    }

    @Test
    void spawnedPidIsTheProgramItselfInsideItsNamespace() throws Exception {
        ManagedProcess danted = dante.process();
        assertThat(danted.executable()).hasValueSatisfying(exe -> assertThat(exe.getFileName()).hasToString("danted"));
        String insideWan = topology.wan().exec("readlink", "/proc/self/ns/net").trim();
        String ofDanted = Files.readSymbolicLink(Path.of("/proc", Long.toString(danted.pid()), "ns", "net")).toString();
        assertThat(ofDanted).isEqualTo(insideWan)
                .isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString());
    }

    @Test
    void lanReachesWanDirectlyOverIpv4AndIpv6() {
        assertThat(Curl.get(topology.lan(), page(WAN_V4))).isEqualTo(web.page());
        assertThat(Curl.get(topology.lan(), page(WAN_V6))).isEqualTo(web.page());
        assertThat(web.requestLines()).anyMatch(line -> line.startsWith("::ffff:" + LAN_V4 + " "))
                .anyMatch(line -> line.startsWith(LAN_V6 + " "));
    }

    @Test
    void wanHostnameResolvesOnlyInsideWan() {
        assertThat(Curl.run(topology.lan(), web.url(WAN_HOSTNAME, "/")).exitCode()).as("curl: couldn't resolve")
                .isEqualTo(6);
        assertThat(Curl.get(topology.wan(), web.url(WAN_HOSTNAME, HttpFileServer.PAGE_PATH))).isEqualTo(web.page());
    }

    @Test
    void danteRelaysSocks5AndSocks4() {
        Netns lan = topology.lan();
        long before = dante.connectionCount();
        String v4 = dante.endpoint().toString();
        assertThat(Curl.get(lan, page(WAN_V4), "--socks5", v4)).isEqualTo(web.page());
        assertThat(Curl.get(lan, page(WAN_HOSTNAME), "--socks5-hostname", v4)).isEqualTo(web.page());
        assertThat(Curl.get(lan, page(WAN_V4), "--socks4", v4)).isEqualTo(web.page());
        assertThat(Curl.get(lan, page(WAN_V6), "--socks5", Endpoint.of(WAN_V6, 1080).toString()))
                .isEqualTo(web.page());
        dante.awaitConnections((int) before + 4, LOG_WAIT);
    }

    @Test
    void danteWithUsernameMethodAcceptsTheSystemUserOnly() {
        Netns lan = topology.lan();
        String proxy = danteWithAuth.endpoint().toString();
        assertThat(Curl.get(lan, page(WAN_V4), "--socks5", proxy,
                "--proxy-user", danteWithAuth.credentials().userInfo())).isEqualTo(web.page());
        assertThat(Curl.run(lan, page(WAN_V4), "--socks5", proxy).succeeded()).as("without credentials").isFalse();
        assertThat(Curl.run(lan, page(WAN_V4), "--socks5", proxy,
                "--proxy-user", danteUser.name() + ":wrong").succeeded()).as("wrong password").isFalse();
        danteWithAuth.awaitConnections(1, LOG_WAIT);
    }

    @Test
    void sshDynamicForwardRelaysSocks5AndSocks4a() {
        assertThat(Curl.get(topology.lan(), page(WAN_HOSTNAME), "--socks5-hostname", sshProxy.endpoint().toString()))
                .isEqualTo(web.page());
        assertThat(Curl.get(topology.lan(), page(WAN_HOSTNAME), "--socks4a", sshProxy.endpoint().toString()))
                .isEqualTo(web.page());
    }

    @Test
    void microsocksRelaysWithPassword() {
        String proxy = microsocks.endpoint().toString();
        assertThat(Curl.get(topology.lan(), page(WAN_V4), "--socks5", proxy,
                "--proxy-user", microsocks.credentials().userInfo())).isEqualTo(web.page());
        assertThat(Curl.run(topology.lan(), page(WAN_V4), "--socks5", proxy).succeeded()).isFalse();
        microsocks.awaitConnections(1, LOG_WAIT);
    }

    @Test
    void tinyproxyTunnelsHttpConnectWithBasicAuth() {
        String withAuth = "http://" + tinyproxy.credentials().userInfo() + "@" + tinyproxy.endpoint();
        assertThat(Curl.get(topology.lan(), page(WAN_V4), "--proxytunnel", "--proxy", withAuth)).isEqualTo(web.page());
        Command.Result refused = Curl.run(topology.lan(), page(WAN_V4), "--proxytunnel",
                "--proxy", "http://" + tinyproxy.endpoint());
        assertThat(refused.stderr()).contains("407");
        tinyproxy.awaitConnects(1, LOG_WAIT);
    }

    @Test
    void redsocksInGatewayMakesLanConnectionsTransparent() {
        Redsocks redsocks = Redsocks.start(topology.gw(), Endpoint.of("0.0.0.0", 12345), Redsocks.Type.SOCKS5,
                dante.endpoint(), null);
        try {
            long before = dante.connectionCount();
            topology.redirectLanTcp(12345);
            assertThat(Curl.get(topology.lan(), page(WAN_V4))).isEqualTo(web.page());
            Path download = topology.workspace().work().resolve("big-via-redsocks.bin");
            Curl.download(topology.lan(), web.url(WAN_V4, HttpFileServer.BIG_PATH), download);
            assertThat(HttpFileServer.sha256(download)).isEqualTo(web.bigSha256());
            List<String> relayed = dante.awaitConnections((int) before + 2, LOG_WAIT);
            assertThat(relayed.subList((int) before, relayed.size()))
                    .as("dante saw the connections coming from gw, i.e. through redsocks")
                    .allMatch(line -> line.contains(GW_WAN_V4 + "."));
        } finally {
            topology.clearRedirects();
            redsocks.close();
        }
        assertThat(Curl.get(topology.lan(), page(WAN_V4))).as("direct again").isEqualTo(web.page());
    }

    @Test
    void byteStreamsArriveIntactOnTheDirectPath() {
        ByteStreamClient.Result echo = ByteStreamClient.in(topology.lan(), stream.endpoint(WAN_V4)).echo(STREAM_BYTES);
        assertThat(echo.ok()).as(echo.raw()).isTrue();
        assertThat(echo.receivedBytes()).isEqualTo(STREAM_BYTES);

        ByteStreamClient.Result halfClose = ByteStreamClient.in(topology.lan(), stream.endpoint(WAN_V6))
                .replyAfterHalfClose(1L << 20, 20L << 20);
        assertThat(halfClose.ok()).as(halfClose.raw()).isTrue();
        assertThat(halfClose.serverReceivedBytes()).isEqualTo(1L << 20);
        assertThat(stream.connectionLines()).anyMatch(line -> line.contains("peer=::ffff:" + LAN_V4 + " "))
                .anyMatch(line -> line.contains("peer=" + LAN_V6 + " "));
    }

    @Test
    void byteStreamClientCanGoThroughSocks5() {
        long before = dante.connectionCount();
        ByteStreamClient.Result result = ByteStreamClient.in(topology.lan(), Endpoint.of(WAN_HOSTNAME, STREAM_PORT))
                .viaSocks5(dante.endpoint(), null)
                .echo(5L << 20);
        assertThat(result.ok()).as(result.raw()).isTrue();
        dante.awaitConnections((int) before + 1, LOG_WAIT);
    }

    @Test
    void localTopologyRedirectsOwnTrafficExceptTheRedirectorsUser() throws Exception {
        // The user is closed last: userdel refuses while redsocks, stopped with the topology, still runs as it.
        try (SystemUser redirectorUser = SystemUser.create();
             LocalTopology local = LocalTopology.create(TestWorkspace.forTest("HarnessSelfTestE2E-local"))) {
            HttpFileServer localWeb = HttpFileServer.start(local.wan(), HTTP_PORT, 1 << 20);
            Dante localDante = Dante.in(local.wan()).listen(LocalTopology.WAN_V4, 1080).external(WAN_IF).start();
            Redsocks redsocks = Redsocks.startAs(redirectorUser, local.host(), Endpoint.of("127.0.0.1", 12345),
                    Redsocks.Type.SOCKS5, localDante.endpoint(), null);
            assertThat(Files.readAllLines(Path.of("/proc", Long.toString(redsocks.process().pid()), "status")))
                    .as("redsocks runs as the throwaway user")
                    .anyMatch(line -> line.matches("Uid:\\s+" + redirectorUser.uid() + "\\s.*"));

            local.redirectOutputTcpExceptUid(12345, redirectorUser.uid());
            String url = localWeb.url(LocalTopology.WAN_V4, HttpFileServer.PAGE_PATH);
            assertThat(Curl.get(local.host(), url)).isEqualTo(localWeb.page());
            assertThat(localDante.awaitConnections(1, LOG_WAIT).get(0))
                    .as("the host's own curl went through redsocks and dante")
                    .contains(LocalTopology.HOST_V4 + ".");
            assertThat(localWeb.awaitRequests(1, LOG_WAIT).get(0)).startsWith("::ffff:" + LocalTopology.WAN_V4 + " ");
        }
        assertThat(Netns.leftoversOfThisRun()).as("local topology namespaces").allMatch(
                name -> topology.toString().contains(name));
    }
}
