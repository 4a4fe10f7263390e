package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
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
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code disclose-src}: an HTTP CONNECT hop names the lan client to its proxy with {@code X-Forwarded-For} or
 * {@code Forwarded}, or not at all. The proxy here is a small CONNECT proxy that writes every request head it
 * receives to its log, one {@code HEAD|} line per header line, and then tunnels for real.
 */
@Tag("e2e")
class DiscloseSourceE2E {

    /** A threaded CONNECT proxy that logs each request head, then connects and relays both ways. */
    private static final String CAPTURE_PROXY = """
            import socket, sys, threading
            def pipe(a, b):
                try:
                    while True:
                        data = a.recv(65536)
                        if not data:
                            break
                        b.sendall(data)
                    b.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            def serve(client):
                head = b''
                while b'\\r\\n\\r\\n' not in head:
                    data = client.recv(4096)
                    if not data:
                        client.close()
                        return
                    head += data
                text, rest = head.split(b'\\r\\n\\r\\n', 1)
                lines = text.decode('latin-1').split('\\r\\n')
                for line in lines:
                    print('HEAD| ' + line, flush=True)
                print('HEAD| -- end', flush=True)
                host, port = lines[0].split(' ')[1].rsplit(':', 1)
                upstream = socket.create_connection((host.strip('[]'), int(port)))
                client.sendall(b'HTTP/1.1 200 Connection established\\r\\n\\r\\n')
                if rest:
                    upstream.sendall(rest)
                threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
                pipe(upstream, client)
            server = socket.create_server((sys.argv[1], int(sys.argv[2])))
            print('listening', flush=True)
            while True:
                conn, _ = server.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()
            """;

    @Test
    void eachModeSendsItsHeaderAndOffSendsNone() throws Exception {
        Prerequisites.require("iptables", "ss", "curl", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("DiscloseSourceE2E");
        try (GatewayTopology topology = GatewayTopology.create(workspace);
                HttpFileServer web = HttpFileServer.start(topology.wan(), 8080, 1 << 10)) {
            Endpoint proxyAt = Endpoint.of(WAN_V4, 3129);
            ManagedProcess proxy = topology.wan().spawn("capture-proxy", Prerequisites.PYTHON, "-u", "-c",
                    CAPTURE_PROXY, WAN_V4, String.valueOf(proxyAt.port()));
            try {
                proxy.awaitLogLine("listening", Duration.ofSeconds(20));
                Map<Integer, String> modes = Map.of(12701, "x-forwarded-for", 12702, "forwarded", 12703, "off");
                StringBuilder config = new StringBuilder();
                modes.forEach((port, mode) -> config.append("""
                        [[listener]]
                        listen = "0.0.0.0:%d"
                        chains = ["main"]
                        disclose-src = "%s"

                        """.formatted(port, mode)));
                config.append("[chain.main]\nhops = [\"http://" + proxyAt + "\"]\n");
                Path file = workspace.writeFile(workspace.newDirectory("conf"), "disclose.toml", config.toString());
                try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                        "--config", file.toString())) {
                    modes.keySet().forEach(port -> redirector.waitForPort("0.0.0.0", port));
                    int heads = 0;
                    for (int port : List.of(12701, 12702, 12703)) {
                        topology.clearRedirects();
                        topology.gw().execScript("iptables -t nat -A PREROUTING -i " + GW_LAN_IF
                                + " -p tcp -m addrtype ! --dst-type LOCAL -j REDIRECT --to-ports " + port);
                        assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH)))
                                .isEqualTo(web.page());
                        heads++;
                    }
                    proxy.awaitLogLines(line -> line.equals("HEAD| -- end"), heads, Duration.ofSeconds(10));
                    List<String> lines = proxy.logLines().stream().filter(line -> line.startsWith("HEAD| "))
                            .map(line -> line.substring(6)).toList();
                    List<List<String>> requests = split(lines);
                    assertThat(requests).hasSize(3);
                    assertThat(requests.get(0)).contains("CONNECT " + WAN_V4 + ":8080 HTTP/1.1",
                            "X-Forwarded-For: " + LAN_V4).noneMatch(l -> l.startsWith("Forwarded"));
                    assertThat(requests.get(1)).contains("Forwarded: for=" + LAN_V4)
                            .noneMatch(l -> l.startsWith("X-Forwarded-For"));
                    assertThat(requests.get(2)).containsExactly("CONNECT " + WAN_V4 + ":8080 HTTP/1.1",
                            "Host: " + WAN_V4 + ":8080");
                }
            } finally {
                proxy.stop();
            }
        }
    }

    /** The logged head lines, one list per request. */
    private static List<List<String>> split(List<String> lines) {
        List<List<String>> out = new java.util.ArrayList<>();
        List<String> current = new java.util.ArrayList<>();
        for (String line : lines) {
            if (line.equals("-- end")) {
                out.add(current);
                current = new java.util.ArrayList<>();
            } else {
                current.add(line);
            }
        }
        return out;
    }
}
