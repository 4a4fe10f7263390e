package dev.chainsocks.e2e.peers;

import static dev.chainsocks.e2e.GatewayTopology.WAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Credentials;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Dante;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.Microsocks;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.PlinkDynamicProxy;
import dev.chainsocks.e2e.SshDynamicProxy;
import dev.chainsocks.e2e.SystemUser;
import dev.chainsocks.e2e.TestWorkspace;
import dev.chainsocks.e2e.Tinyproxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The gateway topology with a target web server and third-party proxies in {@code wan}, and one chainsocks
 * {@code run --config} in {@code gw} with one listener per chain. {@link #route(String)} points gw's REDIRECT at the
 * listener of one chain, so a test switches chains without restarting the JVM.
 *
 * <p>Every peer listens on {@link GatewayTopology#WAN_V4}; a hop reaches the next one there. Peers are stopped in the
 * reverse order of their start, chainsocks first, the topology last.
 */
final class PeerNetwork implements AutoCloseable {

    static final int HTTP_PORT = 8080;
    static final Duration LOG_WAIT = Duration.ofSeconds(10);
    /** chainsocks' default per-hop handshake timeout; the generated config keeps every timeout at its default. */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    static final Credentials TINYPROXY_CREDENTIALS = new Credentials("tiny", "t1ny-pass");
    static final Credentials MICROSOCKS_CREDENTIALS = new Credentials("micro", "m1cro-pass");

    private static final int FIRST_LISTENER_PORT = 12001;

    private final GatewayTopology topology;
    private final HttpFileServer web;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final Map<String, Integer> listenerPorts = new LinkedHashMap<>();
    private ChainsocksProcess redirector;

    private PeerNetwork(GatewayTopology topology, HttpFileServer web) {
        this.topology = topology;
        this.web = web;
    }

    /** Builds the topology and starts the web server in {@code wan}; {@code bigBytes} sizes {@code /big.bin}. */
    static PeerNetwork create(String testName, long bigBytes) {
        GatewayTopology topology = GatewayTopology.create(TestWorkspace.forTest(testName));
        boolean success = false;
        try {
            PeerNetwork network = new PeerNetwork(topology, HttpFileServer.start(topology.wan(), HTTP_PORT, bigBytes));
            success = true;
            return network;
        } finally {
            if (!success) {
                topology.close();
            }
        }
    }

    GatewayTopology topology() {
        return topology;
    }

    Netns lan() {
        return topology.lan();
    }

    Netns wan() {
        return topology.wan();
    }

    HttpFileServer web() {
        return web;
    }

    /** A throwaway account for Dante's username method; removed after the peers that use it have stopped. */
    SystemUser systemUser() {
        return keep(SystemUser.create());
    }

    Dante dante(int port) {
        return keep(Dante.in(wan()).listen(WAN_V4, port).external(WAN_IF).start());
    }

    Dante danteWithUsername(int port, SystemUser user) {
        return keep(Dante.in(wan()).listen(WAN_V4, port).external(WAN_IF).requireUsername(user).start());
    }

    /** sshd on {@code sshdPort} and its {@code ssh -D} client, both in {@code wan}, SOCKS on {@code socksPort}. */
    SshDynamicProxy sshDynamic(int sshdPort, int socksPort) {
        return keep(SshDynamicProxy.start(wan(), Endpoint.of(WAN_V4, sshdPort), wan(), Endpoint.of(WAN_V4, socksPort)));
    }

    /**
     * sshd on {@code sshdPort} in {@code wan} and its {@code plink -D} client in {@code gw}, SOCKS on
     * 127.0.0.1:{@code socksPort} there: plink serves loopback clients only, and chainsocks runs in gw.
     */
    PlinkDynamicProxy plinkDynamic(int sshdPort, int socksPort) {
        return keep(PlinkDynamicProxy.start(wan(), Endpoint.of(WAN_V4, sshdPort), topology.gw(), socksPort));
    }

    Microsocks microsocks(int port, Credentials credentials) {
        return keep(Microsocks.start(wan(), Endpoint.of(WAN_V4, port), credentials));
    }

    Tinyproxy tinyproxy(int port, Credentials credentials) {
        return keep(Tinyproxy.start(wan(), Endpoint.of(WAN_V4, port), credentials));
    }

    /**
     * Starts {@code chainsocks run --config} in {@code gw}: for each entry a strict listener on its own port (from
     * 12001, in map order) with one chain of that name made of the given hop URIs.
     */
    ChainsocksProcess startChainsocks(Map<String, List<String>> chains) {
        return startChainsocks(chains, List.of());
    }

    /** As {@link #startChainsocks(Map)}, with {@code jvmOptions} on chainsocks' java command line. */
    ChainsocksProcess startChainsocks(Map<String, List<String>> chains, List<String> jvmOptions) {
        if (redirector != null) {
            throw new IllegalStateException("chainsocks already runs: " + redirector);
        }
        TestWorkspace workspace = topology.workspace();
        Path dir = workspace.newDirectory("chainsocks");
        StringBuilder toml = new StringBuilder()
                .append("[service]\n")
                .append("control-socket = ").append(quote(workspace.newRuntimeDirectory("control").resolve("control.sock")
                        .toString())).append('\n')
                .append("shutdown-grace = \"0s\"\n");
        int port = FIRST_LISTENER_PORT;
        for (Map.Entry<String, List<String>> chain : chains.entrySet()) {
            listenerPorts.put(chain.getKey(), port);
            toml.append("\n[[listener]]\n")
                    .append("listen = \"0.0.0.0:").append(port).append("\"\n")
                    .append("chains = [").append(quote(chain.getKey())).append("]\n")
                    .append("policy = \"strict\"\n")
                    .append("\n[chain.").append(chain.getKey()).append("]\n")
                    .append("hops = [").append(chain.getValue().stream().map(PeerNetwork::quote)
                            .collect(Collectors.joining(", "))).append("]\n");
            port++;
        }
        Path config = workspace.writeFile(dir, "chainsocks.toml", toml.toString());
        redirector = ChainsocksProcess.startWithJvmOptions(null, topology.gw(), "chainsocks-run", jvmOptions, "run",
                "--config", config.toString());
        listenerPorts.values().forEach(listenerPort -> redirector.waitForPort("0.0.0.0", listenerPort));
        return redirector;
    }

    ChainsocksProcess chainsocks() {
        return redirector;
    }

    /** From now on gw redirects every TCP connection from {@code lan} to the listener of {@code chain}. */
    void route(String chain) {
        Integer port = listenerPorts.get(chain);
        if (port == null) {
            throw new IllegalArgumentException("no listener for chain " + chain + "; have " + listenerPorts.keySet());
        }
        topology.clearRedirects();
        topology.redirectLanTcp(port);
    }

    /** A plain curl in {@code lan} for the target page, by IP: the client knows nothing about proxies. */
    String fetchPage() {
        return Curl.get(lan(), pageUrl());
    }

    String pageUrl() {
        return web.url(WAN_V4, HttpFileServer.PAGE_PATH);
    }

    /** The access log's end line of the {@code n}-th (1-based) session chainsocks ran over {@code chain}. */
    String awaitSessionEnd(String chain, int n) {
        return redirector.awaitLogLines(line -> line.contains(" end ") && line.contains(" via=" + chain + "["), n,
                LOG_WAIT).get(n - 1);
    }

    /** The target server's request log lines after the first {@code skip} ones, once there are {@code count} more. */
    List<String> awaitNewRequests(int skip, int count) {
        List<String> all = web.awaitRequests(skip + count, LOG_WAIT);
        return all.subList(skip, all.size());
    }

    <T extends AutoCloseable> T keep(T resource) {
        opened.add(resource);
        return resource;
    }

    /**
     * Stops chainsocks with SIGTERM and checks that it exited with 0 and never logged an ERROR (an exception that
     * escaped to the event loop, say), whatever the sessions' outcomes were.
     */
    void stopChainsocksCleanly() {
        if (redirector == null) {
            return;
        }
        assertThat(redirector.stop()).as("chainsocks exit code on SIGTERM").isZero();
        assertThat(redirector.logLines()).as("chainsocks logged no ERROR").noneMatch(line -> line.contains(" ERROR "));
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        List<AutoCloseable> all = new ArrayList<>();
        if (redirector != null) {
            all.add(redirector);
        }
        for (int i = opened.size() - 1; i >= 0; i--) {
            all.add(opened.get(i));
        }
        all.add(web);
        for (AutoCloseable resource : all) {
            try {
                resource.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        try {
            topology.close();
        } catch (RuntimeException e) {
            if (first == null) {
                first = e;
            } else {
                first.addSuppressed(e);
            }
        }
        if (first != null) {
            throw first;
        }
    }

    static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
