package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_V6;
import static dev.chainsocks.e2e.GatewayTopology.GW_WAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.WAN_HOSTNAME;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Fake-IP DNS in a gateway: a client in {@code lan} asks chainsocks' DNS in {@code gw} for {@code web.test}, a name
 * only {@code wan} can resolve, gets a pool address, and connects to it with a plain curl. The REDIRECT rule sends
 * the connection to chainsocks, which dials the name, not the address: the hop in {@code wan} logs
 * {@code dst=web.test:8080} and resolves it itself. A capture on gw's WAN side shows that no DNS packet left gw.
 *
 * <p>A second listener has {@code recover-name = "sni-host"}: a curl to the web server's address with a
 * {@code Host:} name, and an HTTPS curl whose ClientHello carries {@code web.test} (to openssl s_server in wan),
 * reach the hop as the name; a request whose Host is an address is dialed by address.
 */
@Tag("e2e")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FakeIpDnsE2E {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final int HTTP_PORT = 8080;
    private static final int LISTEN_PORT = 12345;
    private static final String[] ALLOW_TEST_NETWORKS = {"--allow-from", "198.18.0.0/15", "--allow-from", "fd00::/8"};

    private static GatewayTopology topology;
    private static HttpFileServer web;
    private static BundledHop hop;
    private static ChainsocksProcess redirector;
    private static ManagedProcess capture;
    private static final int RECOVER_PORT = 12346;
    private static final int TLS_PORT = 8443;
    private static Path pcap;

    @BeforeAll
    static void start() {
        Prerequisites.require("iptables", "ip6tables", "curl", "dig", "tcpdump", "ss");
        TestWorkspace workspace = TestWorkspace.forTest("FakeIpDnsE2E");
        topology = GatewayTopology.create(workspace);
        topology.wan().addHost("web6.test", WAN_V6);
        web = HttpFileServer.start(topology.wan(), HTTP_PORT, 1 << 12);
        hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), Endpoint.of(WAN_V6, 1080),
                ALLOW_TEST_NETWORKS).awaitListening();

        Path tls = workspace.newDirectory("tls");
        topology.wan().exec("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + WAN_HOSTNAME,
                "-days", "1", "-keyout", tls.resolve("key.pem").toString(), "-out", tls.resolve("cert.pem").toString());
        topology.wan().spawnListening("tls-server", Endpoint.of(WAN_V4, TLS_PORT), List.of("openssl", "s_server",
                "-quiet", "-www", "-accept", String.valueOf(TLS_PORT), "-cert", tls.resolve("cert.pem").toString(),
                "-key", tls.resolve("key.pem").toString()));

        pcap = workspace.newDirectory("capture").resolve("gw-wan.pcap");
        capture = topology.gw().spawn("tcpdump", "tcpdump", "-i", GW_WAN_IF, "-n", "-U", "-w", pcap.toString(),
                "port 53");
        capture.awaitLogLine("listening on " + GW_WAN_IF, LOG_WAIT);

        String toml = new RedirectorConfig()
                .exempt("10.0.0.0/8", "127.0.0.0/8", "::1/128", "fe80::/10")
                .strictListener("[::]:" + LISTEN_PORT, "main")
                .chain("main", hop.uri("socks5"))
                .toml()
                + "\n[dns]\nlisten = [\"" + GW_LAN_V4 + ":53\", \"[" + GW_LAN_V6 + "]:53\"]\n"
                + "\n[[listener]]\nlisten = \"[::]:" + RECOVER_PORT + "\"\nchains = [\"names\"]\npolicy = \"strict\"\n"
                + "recover-name = \"sni-host\"\n"
                + "\n[chain.names]\nhops = [\"" + hop.uri("socks5") + "\"]\n";
        Path config = workspace.writeFile(workspace.newDirectory("config"), "dns.toml", toml);
        redirector = ChainsocksProcess.start(topology.gw(), "run", "run", "--config", config.toString());
        redirector.waitForPort("::", LISTEN_PORT);
        redirector.waitForPort("::", RECOVER_PORT);
        redirector.waitForPort(GW_LAN_V4, 53);
        redirector.waitForPort(GW_LAN_V6, 53);
        redirectLanTo(LISTEN_PORT);
    }

    private static void redirectLanTo(int port) {
        topology.clearRedirects();
        topology.redirectLanTcp(port);
        // DNS over TCP to the gateway itself is for chainsocks' DNS, not for the redirector (in a real gateway the
        // generated rules leave local addresses alone the same way)
        topology.gw().execScript(String.join("\n",
                "iptables -t nat -I PREROUTING -i " + GatewayTopology.GW_LAN_IF + " -d " + GW_LAN_V4
                        + " -p tcp --dport 53 -j RETURN",
                "ip6tables -t nat -I PREROUTING -i " + GatewayTopology.GW_LAN_IF + " -d " + GW_LAN_V6
                        + " -p tcp --dport 53 -j RETURN"));
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    /** {@code dig +short} in lan against chainsocks' DNS; the one address it answered. */
    private static String resolve(String server, String name, String type, String... options) {
        List<String> command = new java.util.ArrayList<>(List.of("dig", "+short", "+tries=1", "+time=5",
                "@" + server, name, type));
        command.addAll(List.of(options));
        String answer = topology.lan().run(Command.DEFAULT_TIMEOUT, command.toArray(String[]::new))
                .requireSuccess().stdout().strip();
        assertThat(answer.lines().toList()).as("dig " + name + " " + type).hasSize(1);
        return answer;
    }

    private static void fetchByName(String name, String address, boolean ipv6) {
        int before = hop.sessionCount();
        String resolveTo = ipv6 ? "[" + address + "]" : address;
        assertThat(Curl.get(topology.lan(), "http://" + name + ":" + HTTP_PORT + HttpFileServer.PAGE_PATH,
                "--resolve", name + ":" + HTTP_PORT + ":" + resolveTo)).isEqualTo(web.page());
        assertThat(hop.awaitOneNewSession(before)).as("the hop in wan was asked for the name")
                .contains(" dst=" + name + ":" + HTTP_PORT + " ");
        List<String> ends = redirector.awaitLogLines(line -> AccessLogLines.isEnd(line)
                && line.contains(" dst=" + name + ":" + HTTP_PORT + " "), 1, LOG_WAIT);
        assertThat(AccessLogLines.normalized(ends.get(ends.size() - 1))).as("chainsocks' access log")
                .endsWith(" outcome=ok");
    }

    @Test
    @Order(1)
    void anIpv4ClientResolvesThroughChainsocksAndTheNameReachesTheLastHop() {
        String address = resolve(GW_LAN_V4, WAN_HOSTNAME, "A");
        assertThat(address).startsWith("100.").as("an address of the default pool 100.64.0.0/10")
                .matches("100\\.(6[4-9]|[7-9]\\d|1[01]\\d|12[0-7])\\.\\d+\\.\\d+");
        assertThat(resolve(GW_LAN_V4, WAN_HOSTNAME, "A", "+tcp")).as("the same answer over TCP").isEqualTo(address);
        fetchByName(WAN_HOSTNAME, address, false);
    }

    @Test
    @Order(2)
    void anIpv6ClientResolvesThroughChainsocksAndTheNameReachesTheLastHop() {
        String address = resolve(GW_LAN_V6, "web6.test", "AAAA");
        assertThat(address).as("an address of the default pool 64:ff9b:1::/48").startsWith("64:ff9b:1:");
        fetchByName("web6.test", address, true);
    }

    @Test
    @Order(3)
    void anAddressOfThePoolWithoutANameIsRefused() {
        Command.Result result = Curl.run(topology.lan(), "http://100.127.255.254:" + HTTP_PORT + "/");
        assertThat(result.succeeded()).isFalse();
        redirector.awaitLogLines(line -> line.contains("fake address 100.127.255.254:" + HTTP_PORT
                + " stands for no name"), 1, LOG_WAIT);
    }

    /** Last: nothing above sent DNS out of gw; a query sent on purpose shows the capture would have seen one. */
    @Test
    @Order(4)
    void noDnsPacketLeftTheGatewayAndTheCaptureWouldHaveSeenOne() {
        assertThat(packets()).as("DNS packets on gw's WAN side").isEmpty();
        topology.gw().run(Duration.ofSeconds(10), "dig", "+tries=1", "+time=1", "@" + WAN_V4, "control.test");
        long deadline = System.nanoTime() + LOG_WAIT.toNanos();
        while (packets().isEmpty() && System.nanoTime() < deadline) {
            // each look runs tcpdump -r, which takes a moment; the capture writes each packet as it comes (-U)
        }
        assertThat(packets()).as("the control query was captured").isNotEmpty()
                .allMatch(line -> line.contains("control.test") || line.contains(".53:") || line.contains(".53 "));
    }

    /** recover-name: a plain HTTP request to an address reaches the last hop as the Host header's name. */
    @Test
    @Order(5)
    void theHostHeaderNameReachesTheLastHop() {
        redirectLanTo(RECOVER_PORT);
        int before = hop.sessionCount();
        String url = "http://" + WAN_V4 + ":" + HTTP_PORT + HttpFileServer.PAGE_PATH;
        assertThat(Curl.get(topology.lan(), url, "-H", "Host: " + WAN_HOSTNAME + ":" + HTTP_PORT))
                .isEqualTo(web.page());
        assertThat(hop.awaitOneNewSession(before)).as("the hop in wan was asked for the Host name")
                .contains(" dst=" + WAN_HOSTNAME + ":" + HTTP_PORT + " ");
        assertThat(Curl.get(topology.lan(), url)).as("Host is an address: dialed by address").isEqualTo(web.page());
        assertThat(hop.awaitOneNewSession(before + 1)).contains(" dst=" + WAN_V4 + ":" + HTTP_PORT + " ");
    }

    /** recover-name: the TLS ClientHello's server name does the same, with the TLS bytes relayed unaltered. */
    @Test
    @Order(6)
    void theTlsServerNameReachesTheLastHop() {
        redirectLanTo(RECOVER_PORT);
        int before = hop.sessionCount();
        String body = Curl.get(topology.lan(), "https://" + WAN_HOSTNAME + ":" + TLS_PORT + "/", "--insecure",
                "--resolve", WAN_HOSTNAME + ":" + TLS_PORT + ":" + WAN_V4);
        assertThat(body).as("openssl s_server's status page, over TLS end to end").contains("Cipher");
        redirector.awaitLogLines(line -> AccessLogLines.isEnd(line) && line.contains(" dst=" + WAN_HOSTNAME + ":"
                + TLS_PORT + " "), 1, LOG_WAIT);
        assertThat(hop.awaitOneNewSession(before)).as("the hop in wan was asked for the server name")
                .contains(" dst=" + WAN_HOSTNAME + ":" + TLS_PORT + " ");
    }

    private static List<String> packets() {
        return Command.run(List.of("tcpdump", "-n", "-r", pcap.toString()), Command.DEFAULT_TIMEOUT)
                .requireSuccess().stdout().lines().filter(line -> !line.isBlank()).toList();
    }
}
