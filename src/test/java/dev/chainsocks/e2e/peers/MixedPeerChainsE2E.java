package dev.chainsocks.e2e.peers;

import static dev.chainsocks.e2e.GatewayTopology.GW_WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_HOSTNAME;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.peers.PeerNetwork.LOG_WAIT;
import static dev.chainsocks.e2e.peers.PeerNetwork.MICROSOCKS_CREDENTIALS;
import static dev.chainsocks.e2e.peers.PeerNetwork.TINYPROXY_CREDENTIALS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Dante;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.Microsocks;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.SshDynamicProxy;
import dev.chainsocks.e2e.SystemUser;
import dev.chainsocks.e2e.Tinyproxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Chains that mix third-party proxies, each hop asking the next one on {@code 198.19.2.2}:
 *
 * <ul>
 *   <li>Dante SOCKS5 (username) &rarr; tinyproxy HTTP CONNECT (Basic) &rarr; microsocks SOCKS5 (username) &rarr;
 *       target, carrying a few MB intact; proxychains4 with the same strict chain fetches the same bytes;</li>
 *   <li>{@code ssh -D} as SOCKS4a asked for the next hop by the name {@code web.test}, which only {@code wan} can
 *       resolve, &rarr; Dante SOCKS5 &rarr; target: the name went to the proxy, chainsocks did not resolve it.</li>
 * </ul>
 */
@Tag("e2e")
class MixedPeerChainsE2E {

    private static final String THREE_HOPS = "dante-tinyproxy-microsocks";
    private static final String SSH_THEN_DANTE = "ssh-socks4a-dante";
    private static final long BIG_BYTES = 8L << 20;
    private static final Duration PROXYCHAINS_TIMEOUT = Duration.ofSeconds(60);

    private static PeerNetwork network;
    private static SystemUser user;
    private static Dante dante;
    private static Dante danteWithAuth;
    private static Tinyproxy tinyproxy;
    private static Microsocks microsocks;
    private static SshDynamicProxy ssh;

    @BeforeAll
    static void startPeersAndChainsocks() {
        Prerequisites.require("iptables", "ip6tables", "ss", "sysctl", "curl", "python3", "danted", "sshd", "ssh",
                "ssh-keygen", "microsocks", "tinyproxy", "proxychains4", "useradd", "userdel", "chpasswd");
        network = PeerNetwork.create("MixedPeerChainsE2E", BIG_BYTES);
        user = network.systemUser();
        dante = network.dante(1080);
        danteWithAuth = network.danteWithUsername(1082, user);
        tinyproxy = network.tinyproxy(8888, TINYPROXY_CREDENTIALS);
        microsocks = network.microsocks(1083, MICROSOCKS_CREDENTIALS);
        ssh = network.sshDynamic(2222, 1081);

        Map<String, List<String>> chains = new LinkedHashMap<>();
        chains.put(THREE_HOPS, List.of(
                "socks5://" + user.credentials().userInfo() + "@" + danteWithAuth.endpoint(),
                "http://" + TINYPROXY_CREDENTIALS.userInfo() + "@" + tinyproxy.endpoint(),
                "socks5://" + MICROSOCKS_CREDENTIALS.userInfo() + "@" + microsocks.endpoint()));
        chains.put(SSH_THEN_DANTE, List.of(
                ssh.endpoint().url("socks4a"),
                "socks5://" + WAN_HOSTNAME + ":" + dante.endpoint().port()));
        network.startChainsocks(chains);
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (network == null) {
            return;
        }
        try {
            network.stopChainsocksCleanly();
        } finally {
            network.close();
        }
    }

    @Test
    void bigFileCrossesDanteThenTinyproxyThenMicrosocksIntact() {
        long danteBefore = danteWithAuth.connectionCount();
        long tinyBefore = tinyproxy.connectCount();
        long microBefore = microsocks.connectionCount();
        int requestsBefore = network.web().requestLines().size();
        network.route(THREE_HOPS);

        Path download = network.topology().workspace().work().resolve("big-via-three-hops.bin");
        Curl.download(network.lan(), network.web().url(WAN_V4, HttpFileServer.BIG_PATH), download);

        assertThat(HttpFileServer.sha256(download)).isEqualTo(network.web().bigSha256());
        String end = network.awaitSessionEnd(THREE_HOPS, 1);
        assertThat(end).as("chainsocks access log")
                .contains("client=" + LAN_V4 + ":", "dst=" + WAN_V4 + ":" + PeerNetwork.HTTP_PORT + " ", "outcome=ok");
        assertThat(downBytes(end)).as("bytes relayed towards the client").isGreaterThan(BIG_BYTES);

        assertThat(newLines(danteWithAuth.awaitConnections((int) danteBefore + 1, LOG_WAIT), danteBefore))
                .as("hop 1, dante: from gw to tinyproxy")
                .singleElement().asString().contains(GW_WAN_V4 + ".", "-> " + WAN_V4 + ".", WAN_V4 + "."
                        + tinyproxy.endpoint().port());
        assertThat(newLines(tinyproxy.awaitConnects((int) tinyBefore + 1, LOG_WAIT), tinyBefore))
                .as("hop 2, tinyproxy: CONNECT to microsocks")
                .singleElement().asString().contains("CONNECT " + microsocks.endpoint() + " ");
        assertThat(newLines(microsocks.awaitConnections((int) microBefore + 1, LOG_WAIT), microBefore))
                .as("hop 3, microsocks: from tinyproxy's host to the target")
                .singleElement().asString()
                .contains(" " + WAN_V4 + Microsocks.CONNECT_MARK + WAN_V4 + ":" + PeerNetwork.HTTP_PORT);
        assertThat(network.awaitNewRequests(requestsBefore, 1)).as("target server's request log")
                .singleElement().asString()
                .startsWith("::ffff:" + WAN_V4 + " ").contains("GET " + HttpFileServer.BIG_PATH + " ");
    }

    @Test
    void sshSocks4aResolvesTheNextHopsNameInsideWan() {
        assertThat(network.topology().gw().run(Duration.ofSeconds(10), "getent", "hosts", WAN_HOSTNAME).succeeded())
                .as("gw, where chainsocks runs, cannot resolve " + WAN_HOSTNAME).isFalse();
        long forwardsBefore = ssh.sshd().countLogLines(SshDynamicProxy.FORWARD_MARK);
        long danteBefore = dante.connectionCount();
        int requestsBefore = network.web().requestLines().size();
        network.route(SSH_THEN_DANTE);

        assertThat(network.fetchPage()).isEqualTo(network.web().page());

        assertThat(network.awaitSessionEnd(SSH_THEN_DANTE, 1)).as("chainsocks access log")
                .contains("client=" + LAN_V4 + ":", "dst=" + WAN_V4 + ":" + PeerNetwork.HTTP_PORT + " ", "outcome=ok");
        List<String> forwards = ssh.sshd().awaitLogLines(line -> line.contains(SshDynamicProxy.FORWARD_MARK),
                (int) forwardsBefore + 1, LOG_WAIT);
        assertThat(newLines(forwards, forwardsBefore)).as("hop 1, sshd was asked for the name, not an address")
                .singleElement().asString()
                .contains("originator " + GW_WAN_V4 + " ", "target " + WAN_HOSTNAME + " port " + dante.endpoint().port());
        assertThat(newLines(dante.awaitConnections((int) danteBefore + 1, LOG_WAIT), danteBefore))
                .as("hop 2, dante: from sshd in wan to the target")
                .singleElement().asString()
                .contains(WAN_V4 + ".", "-> ", WAN_V4 + "." + PeerNetwork.HTTP_PORT)
                .doesNotContain(GW_WAN_V4 + ".");
        assertThat(network.awaitNewRequests(requestsBefore, 1)).as("target server's request log")
                .singleElement().asString().startsWith("::ffff:" + WAN_V4 + " ");
    }

    /**
     * The same three hops given to proxychains4 (strict_chain) for a lan curl, with gw not redirecting: both tools
     * agree on the chain's meaning, and the bytes are the same.
     */
    @Test
    void proxychainsWithTheSameStrictChainFetchesTheSameBytes() {
        long danteBefore = danteWithAuth.connectionCount();
        long microBefore = microsocks.connectionCount();
        network.topology().clearRedirects();
        Path conf = network.topology().workspace().writeFile(
                network.topology().workspace().newDirectory("proxychains"), "proxychains.conf", String.join("\n",
                        "strict_chain",
                        "quiet_mode",
                        "tcp_connect_time_out 5000",
                        "tcp_read_time_out 15000",
                        "[ProxyList]",
                        "socks5 " + WAN_V4 + " " + danteWithAuth.endpoint().port() + " " + user.name() + " "
                                + user.password(),
                        "http " + WAN_V4 + " " + tinyproxy.endpoint().port() + " " + TINYPROXY_CREDENTIALS.user() + " "
                                + TINYPROXY_CREDENTIALS.password(),
                        "socks5 " + WAN_V4 + " " + microsocks.endpoint().port() + " " + MICROSOCKS_CREDENTIALS.user()
                                + " " + MICROSOCKS_CREDENTIALS.password(),
                        ""));
        Path download = network.topology().workspace().work().resolve("big-via-proxychains.bin");

        Command.Result result = network.lan().run(PROXYCHAINS_TIMEOUT, "proxychains4", "-q", "-f", conf.toString(),
                "curl", "-sS", "--fail", "--max-time", "30", "--output", download.toString(),
                network.web().url(WAN_V4, HttpFileServer.BIG_PATH));

        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(HttpFileServer.sha256(download)).isEqualTo(network.web().bigSha256());
        assertThat(newLines(danteWithAuth.awaitConnections((int) danteBefore + 1, LOG_WAIT), danteBefore))
                .as("proxychains in lan, not chainsocks in gw, talked to dante")
                .singleElement().asString().contains(LAN_V4 + ".");
        assertThat(newLines(microsocks.awaitConnections((int) microBefore + 1, LOG_WAIT), microBefore))
                .singleElement().asString().contains(Microsocks.CONNECT_MARK + WAN_V4 + ":" + PeerNetwork.HTTP_PORT);
    }

    private static List<String> newLines(List<String> all, long before) {
        return all.subList((int) before, all.size());
    }

    private static long downBytes(String endLine) {
        Matcher down = Pattern.compile(" down=(\\d+)B ").matcher(endLine);
        assertThat(down.find()).as("down= in " + endLine).isTrue();
        return Long.parseLong(down.group(1));
    }
}
