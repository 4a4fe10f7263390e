package dev.chainsocks.e2e.peers;

import static dev.chainsocks.e2e.GatewayTopology.GW_WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.peers.PeerNetwork.LOG_WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.Dante;
import dev.chainsocks.e2e.Microsocks;
import dev.chainsocks.e2e.PlinkDynamicProxy;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.SshDynamicProxy;
import dev.chainsocks.e2e.SystemUser;
import dev.chainsocks.e2e.Tinyproxy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * chainsocks in gw with a single third-party proxy as its chain, one case per peer and protocol: a lan client's plain
 * curl for the target page crosses gw's REDIRECT, chainsocks and that proxy. Each case checks the page, chainsocks'
 * access log, the target server's request log (the request came from a proxy in wan, not from lan or gw) and the
 * peer's own log (it relayed a connection from gw to the target). PuTTY's {@code plink -D} is the exception in
 * placement: it serves loopback clients only, so it runs in gw beside chainsocks and its sshd in wan relays.
 */
@Tag("e2e")
class ThirdPartyUpstreamsE2E {

    private static final String TARGET = WAN_V4 + ":" + PeerNetwork.HTTP_PORT;

    private static PeerNetwork network;
    private static Dante dante;
    private static Dante danteWithAuth;
    private static SshDynamicProxy ssh;
    private static PlinkDynamicProxy plink;
    private static Microsocks microsocks;
    private static Microsocks microsocksWithAuth;
    private static Tinyproxy tinyproxy;

    @BeforeAll
    static void startPeersAndChainsocks() {
        Prerequisites.require("iptables", "ip6tables", "ss", "sysctl", "curl", "python3", "danted", "sshd", "ssh",
                "ssh-keygen", "microsocks", "tinyproxy", "useradd", "userdel", "chpasswd", "plink", "puttygen");
        network = PeerNetwork.create("ThirdPartyUpstreamsE2E", 1 << 20);
        SystemUser user = network.systemUser();
        dante = network.dante(1080);
        danteWithAuth = network.danteWithUsername(1082, user);
        ssh = network.sshDynamic(2222, 1081);
        plink = network.plinkDynamic(2223, 1085);
        microsocks = network.microsocks(1084, null);
        microsocksWithAuth = network.microsocks(1083, PeerNetwork.MICROSOCKS_CREDENTIALS);
        tinyproxy = network.tinyproxy(8888, PeerNetwork.TINYPROXY_CREDENTIALS);

        Map<String, List<String>> chains = new LinkedHashMap<>();
        chains.put("dante-socks5", List.of(dante.endpoint().url("socks5")));
        chains.put("dante-socks5-auth", List.of("socks5://" + user.credentials().userInfo() + "@"
                + danteWithAuth.endpoint()));
        chains.put("dante-socks4", List.of(dante.endpoint().url("socks4")));
        chains.put("ssh-socks5", List.of(ssh.endpoint().url("socks5")));
        chains.put("ssh-socks4", List.of(ssh.endpoint().url("socks4")));
        chains.put("ssh-socks4a", List.of(ssh.endpoint().url("socks4a")));
        chains.put("plink-socks5", List.of(plink.endpoint().url("socks5")));
        chains.put("plink-socks4a", List.of(plink.endpoint().url("socks4a")));
        chains.put("microsocks", List.of(microsocks.endpoint().url("socks5")));
        chains.put("microsocks-auth", List.of("socks5://" + PeerNetwork.MICROSOCKS_CREDENTIALS.userInfo() + "@"
                + microsocksWithAuth.endpoint()));
        chains.put("tinyproxy", List.of("http://" + PeerNetwork.TINYPROXY_CREDENTIALS.userInfo() + "@"
                + tinyproxy.endpoint()));
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
    void danteSocks5WithoutAuthentication() {
        long before = dante.connectionCount();
        fetchThrough("dante-socks5");
        assertDanteRelayed(dante, before);
    }

    @Test
    void danteSocks5WithUsernameAuthentication() {
        long before = danteWithAuth.connectionCount();
        fetchThrough("dante-socks5-auth");
        assertDanteRelayed(danteWithAuth, before);
    }

    @Test
    void danteSocks4() {
        long before = dante.connectionCount();
        fetchThrough("dante-socks4");
        assertDanteRelayed(dante, before);
    }

    @Test
    void sshDynamicForwardAsSocks5() {
        long before = sshForwardCount();
        fetchThrough("ssh-socks5");
        assertSshForwarded(before);
    }

    @Test
    void sshDynamicForwardAsSocks4() {
        long before = sshForwardCount();
        fetchThrough("ssh-socks4");
        assertSshForwarded(before);
    }

    @Test
    void sshDynamicForwardAsSocks4a() {
        long before = sshForwardCount();
        fetchThrough("ssh-socks4a");
        assertSshForwarded(before);
    }

    @Test
    void puttyPlinkDynamicForwardAsSocks5() {
        long before = plinkForwardCount();
        fetchThrough("plink-socks5");
        assertPlinkForwarded(before);
    }

    @Test
    void puttyPlinkDynamicForwardAsSocks4a() {
        long before = plinkForwardCount();
        fetchThrough("plink-socks4a");
        assertPlinkForwarded(before);
    }

    @Test
    void microsocksWithoutAuthentication() {
        long before = microsocks.connectionCount();
        fetchThrough("microsocks");
        assertMicrosocksRelayed(microsocks, before);
    }

    @Test
    void microsocksWithUsernameAuthentication() {
        long before = microsocksWithAuth.connectionCount();
        fetchThrough("microsocks-auth");
        assertMicrosocksRelayed(microsocksWithAuth, before);
    }

    @Test
    void tinyproxyHttpConnectWithBasicAuthentication() {
        long before = tinyproxy.connectCount();
        fetchThrough("tinyproxy");
        List<String> connects = tinyproxy.awaitConnects((int) before + 1, LOG_WAIT);
        assertThat(connects.subList((int) before, connects.size())).as("tinyproxy tunnels")
                .singleElement().asString().contains("CONNECT " + TARGET + " ");
        assertThat(tinyproxy.process().logLines()).as("tinyproxy's client was gw")
                .anyMatch(line -> line.contains("Connect (file descriptor ") && line.endsWith("): " + GW_WAN_V4));
    }

    /**
     * Routes lan through {@code chain}'s listener, fetches the page with a plain curl and checks what every case has
     * in common: the content, one successful session over that chain for the lan client's original destination, and
     * the target seeing the request come from wan (where the peers are) rather than from lan or gw.
     */
    private static void fetchThrough(String chain) {
        int requestsBefore = network.web().requestLines().size();
        network.route(chain);
        assertThat(network.fetchPage()).isEqualTo(network.web().page());
        assertThat(network.awaitSessionEnd(chain, 1)).as("chainsocks access log")
                .contains("client=" + LAN_V4 + ":", "dst=" + TARGET + " ", "outcome=ok");
        assertThat(network.awaitNewRequests(requestsBefore, 1)).as("target server's request log")
                .singleElement().asString().startsWith("::ffff:" + WAN_V4 + " ");
    }

    private static void assertDanteRelayed(Dante peer, long before) {
        List<String> relayed = peer.awaitConnections((int) before + 1, LOG_WAIT);
        assertThat(relayed.subList((int) before, relayed.size())).as("dante's new connections")
                .singleElement().asString().contains(GW_WAN_V4 + ".", WAN_V4 + "." + PeerNetwork.HTTP_PORT);
    }

    private static void assertMicrosocksRelayed(Microsocks peer, long before) {
        List<String> relayed = peer.awaitConnections((int) before + 1, LOG_WAIT);
        assertThat(relayed.subList((int) before, relayed.size())).as("microsocks' new connections")
                .singleElement().asString().contains(" " + GW_WAN_V4 + Microsocks.CONNECT_MARK + TARGET);
    }

    private static void assertSshForwarded(long before) {
        List<String> forwarded = ssh.sshd().awaitLogLines(line -> line.contains(SshDynamicProxy.FORWARD_MARK),
                (int) before + 1, LOG_WAIT);
        assertThat(forwarded.subList((int) before, forwarded.size())).as("sshd's new forwarded connections")
                .singleElement().asString().contains("originator " + GW_WAN_V4 + " ",
                        "target " + WAN_V4 + " port " + PeerNetwork.HTTP_PORT);
    }

    /** plink runs in gw, so its sshd in wan sees the forward come from gw, for the target in wan. */
    private static void assertPlinkForwarded(long before) {
        List<String> forwarded = plink.sshd().awaitLogLines(line -> line.contains(SshDynamicProxy.FORWARD_MARK),
                (int) before + 1, LOG_WAIT);
        assertThat(forwarded.subList((int) before, forwarded.size())).as("plink's sshd's new forwarded connections")
                .singleElement().asString().contains("target " + WAN_V4 + " port " + PeerNetwork.HTTP_PORT);
        assertThat(plink.sshd().logLines()).as("plink logged into sshd from gw")
                .anyMatch(line -> line.contains("Accepted publickey for root from " + GW_WAN_V4 + " "));
    }

    private static long plinkForwardCount() {
        return plink.sshd().countLogLines(SshDynamicProxy.FORWARD_MARK);
    }

    private static long sshForwardCount() {
        return ssh.sshd().countLogLines(SshDynamicProxy.FORWARD_MARK);
    }
}
