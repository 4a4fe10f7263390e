package dev.chainsocks.e2e.service;

import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The operator's side of a running gateway: {@code chainsocks status}, {@code connections}, {@code status --json}
 * and {@code /metrics} while a download crosses it; {@code chainsocks reload} under load; SIGTERM draining a live
 * download. Everything is the packaged jar in the gateway topology: lan's curl is REDIRECTed in gw to chainsocks,
 * which reaches wan's web server through one of two bundled SOCKS5 hops in wan.
 *
 * <p>The long transfer is {@code /big.bin} fetched with {@code curl --limit-rate}, so it is still running while the
 * test looks at it, and its SHA-256 proves it came through intact.
 */
@Tag("e2e")
class ControlAndReloadE2E {

    private static final int REDIRECT_PORT = 12345;
    private static final int HOP1_PORT = 1080;
    private static final int HOP2_PORT = 1081;
    private static final int METRICS_PORT = 9151;
    private static final int WEB_PORT = 8080;
    private static final long BIG_BYTES = 64L << 20;
    /**
     * 64 MiB at 3 MiB/s: about 20 s, long enough to look at the session and reload while it runs even on a busy
     * machine, where each control command (a JVM start) may take a second or two.
     */
    private static final String RATE = "3M";
    private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(60);
    private static final String DESTINATION = WAN_V4 + ":" + WEB_PORT;
    private static final ObjectMapper JSON = new ObjectMapper();

    private GatewayTopology topology;
    private HttpFileServer web;
    private ChainsocksProcess hop1;
    private ChainsocksProcess hop2;
    private Path controlDirectory;
    private Path controlSocket;
    private Path config;
    private final ExecutorService background = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "e2e-download");
        thread.setDaemon(true);
        return thread;
    });

    @BeforeEach
    void setUp(TestInfo test) throws IOException {
        Prerequisites.require("iptables", "ip6tables", "ss", "curl", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("ControlAndReloadE2E."
                + test.getTestMethod().orElseThrow().getName());
        topology = GatewayTopology.create(workspace);
        web = HttpFileServer.start(topology.wan(), WEB_PORT, BIG_BYTES);
        hop1 = ChainsocksProcess.start(topology.wan(), "hop1", "socks-server",
                "--listen", WAN_V4 + ":" + HOP1_PORT, "--allow-from", "198.18.0.0/15");
        hop2 = ChainsocksProcess.start(topology.wan(), "hop2", "socks-server",
                "--listen", WAN_V4 + ":" + HOP2_PORT, "--allow-from", "198.18.0.0/15");
        hop1.waitForPort(WAN_V4, HOP1_PORT);
        hop2.waitForPort(WAN_V4, HOP2_PORT);
        topology.redirectLanTcp(REDIRECT_PORT);
        // Unix socket paths are limited to 107 bytes; a checkout deep in a CI runner could exceed that.
        controlDirectory = Files.createTempDirectory("cs-e2e-control");
        controlSocket = controlDirectory.resolve("control.sock");
        config = workspace.writeFile(workspace.work(), "chainsocks.toml", config(HOP1_PORT));
    }

    @AfterEach
    void tearDown() throws IOException {
        background.shutdownNow();
        try {
            if (topology != null) {
                topology.close();
            }
        } finally {
            if (controlDirectory != null) {
                try (Stream<Path> files = Files.walk(controlDirectory)) {
                    for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(path);
                    }
                }
            }
        }
    }

    @Test
    void statusConnectionsJsonAndMetricsDescribeALiveDownload() throws Exception {
        try (ChainsocksProcess service = startService()) {
            assertThat(metrics()).containsEntry("chainsocks_connections_accepted_total", 0L)
                    .containsEntry("chainsocks_connections_active", 0L);
            Path file = topology.workspace().work().resolve("big-1.bin");
            CompletableFuture<Command.Result> download = download(file);
            List<String> session = awaitOneSession();

            assertThat(session.get(1)).startsWith(LAN_V4 + ":");
            assertThat(session.get(2)).isEqualTo(DESTINATION);
            assertThat(session.get(3)).isEqualTo("relay");
            assertThat(session.get(7)).isEqualTo("main[socks5://" + WAN_V4 + ":" + HOP1_PORT + "]");

            String status = control("status").requireSuccess().stdout();
            assertThat(status)
                    .contains("connections: 1 accepted, 1 active, 1 dialed")
                    .contains("failed: none")
                    .contains("listener 0.0.0.0:" + REDIRECT_PORT)
                    .contains("  chain main up")
                    .contains("    hop 1 socks5://" + WAN_V4 + ":" + HOP1_PORT);

            JsonNode json = JSON.readTree(control("status", "--json").requireSuccess().stdout());
            assertThat(json.path("connections").path("accepted").asLong()).isEqualTo(1);
            assertThat(json.path("connections").path("active").asLong()).isEqualTo(1);
            assertThat(json.path("connections").path("dialed").asLong()).isEqualTo(1);
            assertThat(json.path("connections").path("failed").size()).isZero();
            assertThat(json.path("listeners")).hasSize(1);
            JsonNode listener = json.path("listeners").get(0);
            assertThat(listener.path("listen").asText()).isEqualTo("0.0.0.0:" + REDIRECT_PORT);
            assertThat(listener.path("chains")).hasSize(1);
            JsonNode chain = listener.path("chains").get(0);
            assertThat(chain.path("name").asText()).isEqualTo("main");
            assertThat(chain.path("up").asBoolean()).isTrue();
            assertThat(chain.path("successes").asLong()).isEqualTo(1);
            assertThat(chain.path("hops").get(0).asText()).isEqualTo("socks5://" + WAN_V4 + ":" + HOP1_PORT);

            Map<String, Long> live = metrics();
            assertThat(live).containsEntry("chainsocks_connections_accepted_total", 1L)
                    .containsEntry("chainsocks_connections_active", 1L)
                    .containsEntry("chainsocks_connections_dialed_total", 1L)
                    .containsEntry("chainsocks_chain_up{listener=\"0.0.0.0:" + REDIRECT_PORT + "\",chain=\"main\"}",
                            1L);

            assertDownloadIntact(download, file);
            for (int i = 0; i < 3; i++) {
                assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH))).isEqualTo(web.page());
            }
            service.awaitLogLines(line -> line.contains(" end ") && line.contains("outcome=ok"), 4,
                    Duration.ofSeconds(10));
            Map<String, Long> after = metrics();
            assertThat(after).containsEntry("chainsocks_connections_accepted_total", 4L)
                    .containsEntry("chainsocks_connections_active", 0L)
                    .containsEntry("chainsocks_connections_dialed_total", 4L);
            assertThat(after.get("chainsocks_bytes_total{direction=\"down\"}")).isGreaterThan(BIG_BYTES);
            JsonNode idle = JSON.readTree(control("status", "--json").requireSuccess().stdout());
            assertThat(idle.path("connections").path("active").asLong()).isZero();
            assertThat(idle.path("bytes").path("down").asLong()).isEqualTo(after.get(
                    "chainsocks_bytes_total{direction=\"down\"}"));
            assertThat(control("connections").requireSuccess().stdout()).endsWith("0 session(s)\n");
            assertThat(service.stop()).isZero();
        }
    }

    @Test
    void reloadUnderLoadKeepsTheDownloadAndSendsNewConnectionsThroughTheNewChain() throws Exception {
        try (ChainsocksProcess service = startService()) {
            Path file = topology.workspace().work().resolve("big-1.bin");
            CompletableFuture<Command.Result> download = download(file);
            awaitOneSession();
            assertThat(hopSessions(hop1)).isEqualTo(1);

            Files.writeString(config, config(HOP2_PORT));
            Command.Result reloaded = control("reload").requireSuccess();
            assertThat(reloaded.stdout()).startsWith("reloaded: 1 listener(s), 1 chain(s); 1 session(s) carry on");
            service.awaitLogLines(line -> line.contains("configuration reloaded: 1 listener(s) kept, 0 opened"), 1,
                    Duration.ofSeconds(10));

            // The download goes on through the old chain; a new connection takes the new one.
            List<String> live = awaitOneSession();
            assertThat(live.get(7)).isEqualTo("main[socks5://" + WAN_V4 + ":" + HOP1_PORT + "]");
            assertThat(Long.parseLong(live.get(5))).isBetween(1L, BIG_BYTES - 1);
            assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH))).isEqualTo(web.page());
            assertThat(hop2.awaitLogLines(ControlAndReloadE2E::startsDestinationSession, 1, Duration.ofSeconds(10)))
                    .hasSize(1);
            assertThat(hopSessions(hop1)).isEqualTo(1);
            assertThat(control("status").requireSuccess().stdout())
                    .contains("    hop 1 socks5://" + WAN_V4 + ":" + HOP2_PORT)
                    .doesNotContain(":" + HOP1_PORT);

            // A typo that would send traffic back to hop 1 is rejected; hop 2 keeps serving.
            Files.writeString(config, config(HOP1_PORT).replace("socks5://", "sock5://"));
            Command.Result rejected = control("reload");
            assertThat(rejected.exitCode()).as(rejected.describe()).isEqualTo(1);
            assertThat(rejected.stdout()).startsWith("error: reload rejected, the running configuration stays:")
                    .contains("unknown scheme \"sock5\"");
            assertThat(Curl.get(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH))).isEqualTo(web.page());
            assertThat(hop2.awaitLogLines(ControlAndReloadE2E::startsDestinationSession, 2, Duration.ofSeconds(10)))
                    .hasSize(2);

            assertDownloadIntact(download, file);
            assertThat(hopSessions(hop1)).isEqualTo(1);
            service.awaitLogLines(line -> line.contains(" end ") && line.contains("dst=" + DESTINATION)
                    && line.contains(":" + HOP1_PORT) && line.contains("outcome=ok"), 1, Duration.ofSeconds(10));
            assertThat(service.stop()).isZero();
        }
    }

    @Test
    void sigtermDrainsTheLiveDownloadRefusesNewConnectionsAndExitsZero() throws Exception {
        try (NotifySocketReceiver systemd = NotifySocketReceiver.bind(controlDirectory.resolve("notify"))) {
            // The packaged jar with systemd's variable, to prove its notifications too (across namespaces: a
            // path-named unix socket is reachable from any network namespace).
            List<String> command = new ArrayList<>(List.of("env", "NOTIFY_SOCKET=" + systemd.path()));
            command.addAll(ChainsocksProcess.command(topology.workspace(), "run", "--config", config.toString()));
            ManagedProcess service = topology.gw().spawn("run", command);
            service.waitForPort("0.0.0.0", REDIRECT_PORT, ChainsocksProcess.START_TIMEOUT);
            int ready = systemd.awaitMessage(0, "READY=1", Duration.ofSeconds(10));

            Path file = topology.workspace().work().resolve("big-1.bin");
            CompletableFuture<Command.Result> download = download(file);
            awaitOneSession();

            ProcessHandle.of(service.pid()).orElseThrow().destroy();
            systemd.awaitMessage(ready + 1, "STOPPING=1", Duration.ofSeconds(10));
            service.awaitLogLine("stopping: no longer accepting; 1 session(s) may finish within 30s",
                    Duration.ofSeconds(10));

            // Draining: the listener is closed, so the REDIRECTed SYN gets a reset; the control socket still answers.
            Command.Result refused = Curl.run(topology.lan(), web.url(WAN_V4, HttpFileServer.PAGE_PATH));
            assertThat(refused.exitCode()).as(refused.describe()).isEqualTo(7);
            assertThat(control("status").requireSuccess().stdout())
                    .contains("connections: 1 accepted, 1 active, 1 dialed");
            assertThat(service.isAlive()).isTrue();

            assertDownloadIntact(download, file);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (service.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(service.exitCode()).as("exit after the drain\n" + service.tail()).contains(0);
            assertThat(service.logText())
                    .containsPattern("session \\d+ end client=" + LAN_V4.replace(".", "\\.") + ":\\d+ dst="
                            + DESTINATION.replace(".", "\\.") + " .* outcome=ok")
                    .doesNotContain("still open after the grace period");
            assertThat(Files.exists(controlSocket)).as("control socket removed on exit").isFalse();
            assertThat(systemd.messages()).as(NotifySocketReceiver.describe(systemd.messages()))
                    .containsSubsequence("READY=1", "STOPPING=1");
        }
    }

    private ChainsocksProcess startService() {
        ChainsocksProcess service = ChainsocksProcess.start(topology.gw(), "run", "run", "--config",
                config.toString());
        service.waitForPort("0.0.0.0", REDIRECT_PORT);
        service.process().waitForPort("127.0.0.1", METRICS_PORT, ChainsocksProcess.START_TIMEOUT);
        return service;
    }

    /** A 20-second download of big.bin from lan, through the REDIRECT and chainsocks. */
    private CompletableFuture<Command.Result> download(Path file) {
        return CompletableFuture.supplyAsync(() -> Curl.run(topology.lan(), web.url(WAN_V4, HttpFileServer.BIG_PATH),
                "--limit-rate", RATE, "--max-time", "55", "--output", file.toString()), background);
    }

    private void assertDownloadIntact(CompletableFuture<Command.Result> download, Path file) throws Exception {
        Command.Result result = download.get(60, TimeUnit.SECONDS);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(Files.size(file)).isEqualTo(BIG_BYTES);
        assertThat(HttpFileServer.sha256(file)).isEqualTo(web.bigSha256());
    }

    /** {@code chainsocks <args> --control-socket PATH} in gw. */
    private Command.Result control(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--control-socket");
        all.add(controlSocket.toString());
        return ChainsocksProcess.runToCompletion(topology.gw(), CONTROL_TIMEOUT, all.toArray(String[]::new));
    }

    /**
     * Polls {@code chainsocks connections} until exactly one session is relaying, and returns its row split into
     * columns: id, client, destination, state, up, down, age, chain.
     */
    private List<String> awaitOneSession() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            last = control("connections").requireSuccess().stdout();
            List<String> lines = last.lines().toList();
            if (lines.size() == 3 && lines.get(0).startsWith("SESSION") && lines.get(2).equals("1 session(s)")) {
                List<String> columns = List.of(lines.get(1).trim().split("\\s+"));
                if (columns.size() == 8 && columns.get(3).equals("relay") && Long.parseLong(columns.get(5)) > 0) {
                    return columns;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no single relaying session listed within 20 s; last answer:\n" + last);
    }

    /** {@code /metrics} fetched inside gw, as name-with-labels to value. */
    private Map<String, Long> metrics() {
        String text = topology.gw().exec("curl", "-sS", "--fail", "--max-time", "10",
                "http://127.0.0.1:" + METRICS_PORT + "/metrics");
        Map<String, Long> values = new LinkedHashMap<>();
        text.lines().filter(line -> !line.startsWith("#") && !line.isBlank()).forEach(line -> {
            int space = line.lastIndexOf(' ');
            values.put(line.substring(0, space), Long.parseLong(line.substring(space + 1)));
        });
        return values;
    }

    private static boolean startsDestinationSession(String line) {
        return line.contains(" start ") && line.contains("dst=" + DESTINATION);
    }

    private static long hopSessions(ChainsocksProcess hop) {
        return hop.logLines().stream().filter(ControlAndReloadE2E::startsDestinationSession).count();
    }

    private String config(int hopPort) {
        return String.join("\n",
                "[service]",
                "control-socket = \"" + controlSocket + "\"",
                "shutdown-grace = \"30s\"",
                "",
                "[[listener]]",
                "listen = \"0.0.0.0:" + REDIRECT_PORT + "\"",
                "chains = [\"main\"]",
                "policy = \"strict\"",
                "",
                "[chain.main]",
                "hops = [\"socks5://" + WAN_V4 + ":" + hopPort + "\"]",
                "",
                "[metrics]",
                "listen = \"127.0.0.1:" + METRICS_PORT + "\"",
                "");
    }
}
