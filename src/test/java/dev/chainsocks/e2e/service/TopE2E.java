package dev.chainsocks.e2e.service;

import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * {@code chainsocks top} watching a gateway while two downloads cross it: lan's curl is REDIRECTed in gw to
 * chainsocks, which reaches wan's web server through a bundled SOCKS5 hop in wan. One download is slow and older
 * (client port {@value #SLOW_PORT}), the other fast and younger (client port {@value #FAST_PORT}), so sorting by
 * rate and sorting by age put them in opposite orders.
 *
 * <p>The full-screen view runs in a real terminal: a tmux server of the test's own (its socket in the workspace),
 * driven with {@code send-keys} and read with {@code capture-pane}. {@code --once} runs as a script would.
 */
@Tag("e2e")
class TopE2E {

    private static final int REDIRECT_PORT = 12345;
    private static final int HOP_PORT = 1080;
    private static final int WEB_PORT = 8080;
    private static final int SLOW_PORT = 41001;
    private static final int FAST_PORT = 41002;
    private static final long BIG_BYTES = 64L << 20;
    /** The downloads outlast the test (the teardown stops them): 64 MiB at 512 KiB/s (2 min) and at 64 KiB/s. */
    private static final String FAST_RATE = "512K";
    private static final String SLOW_RATE = "64K";
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(5);
    /** A JVM start on a busy two-core machine can take many seconds; every wait is bounded by this. */
    private static final Duration SCREEN_TIMEOUT = Duration.ofSeconds(90);
    private static final String DESTINATION = WAN_V4 + ":" + WEB_PORT;
    private static final String ESC = "\u001b";

    private GatewayTopology topology;
    private HttpFileServer web;
    private Path controlDirectory;
    private Path controlSocket;
    private Path config;
    private Path tmuxSocket;
    private final ExecutorService background = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "e2e-download");
        thread.setDaemon(true);
        return thread;
    });

    @BeforeEach
    void setUp(TestInfo test) throws IOException {
        Prerequisites.require("iptables", "ip6tables", "ss", "curl", "python3", "tmux");
        TestWorkspace workspace = TestWorkspace.forTest("TopE2E." + test.getTestMethod().orElseThrow().getName());
        topology = GatewayTopology.create(workspace);
        web = HttpFileServer.start(topology.wan(), WEB_PORT, BIG_BYTES);
        ChainsocksProcess hop = ChainsocksProcess.start(topology.wan(), "hop", "socks-server",
                "--listen", WAN_V4 + ":" + HOP_PORT, "--allow-from", "198.18.0.0/15");
        hop.waitForPort(WAN_V4, HOP_PORT);
        topology.redirectLanTcp(REDIRECT_PORT);
        // Unix socket paths are limited to 107 bytes; a checkout deep in a CI runner could exceed that.
        controlDirectory = Files.createTempDirectory("cs-e2e-top");
        controlSocket = controlDirectory.resolve("control.sock");
        tmuxSocket = controlDirectory.resolve("tmux.sock");
        config = workspace.writeFile(workspace.work(), "chainsocks.toml", String.join("\n",
                "[service]",
                "control-socket = \"" + controlSocket + "\"",
                "",
                "[[listener]]",
                "listen = \"0.0.0.0:" + REDIRECT_PORT + "\"",
                "chains = [\"main\"]",
                "",
                "[chain.main]",
                "hops = [\"socks5://" + WAN_V4 + ":" + HOP_PORT + "\"]",
                ""));
    }

    @AfterEach
    void tearDown() throws IOException {
        background.shutdownNow();
        try {
            if (tmuxSocket != null && Files.exists(tmuxSocket)) {
                // This test's own tmux server, named by its socket; nobody else's.
                Command.run(List.of("tmux", "-S", tmuxSocket.toString(), "kill-server"), Duration.ofSeconds(10));
            }
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
    void fullScreenShowsTheLiveTransferSortsByRateThenAgeAndQuitsOnQ() throws Exception {
        try (ChainsocksProcess service = startService()) {
            startDownloads(service);
            List<String> top = new ArrayList<>(ChainsocksProcess.command(topology.workspace(), "top",
                    "--control-socket", controlSocket.toString()));
            // The shell in the pane writes top's exit status to a file once top has ended.
            Path exitStatus = controlDirectory.resolve("top-exit-status");
            String shellCommand = top.stream().map(TopE2E::shellQuote).collect(Collectors.joining(" "))
                    + "; echo $? > " + shellQuote(exitStatus.toString());
            // remain-on-exit keeps the pane (and what it shows) after its shell ends.
            tmux("new-session", "-d", "-s", "top", "-x", "160", "-y", "40", shellCommand, ";",
                    "set-option", "-t", "top", "remain-on-exit", "on");

            // Sorted by rate: a frame where the fast download has a measured rate above the slow one's (curl's rate
            // limit reads in bursts, so not every one-second sample shows it) lists it first.
            String screen = awaitScreen("the fast download with a rate above the slow one's, sorted by rate",
                    text -> text.contains("; sorted by rate") && row(text, SLOW_PORT).isPresent()
                            && row(text, FAST_PORT).filter(fast -> bytes(fast.get(8)) > 0
                                    && bytes(fast.get(8)) > bytes(row(text, SLOW_PORT).get().get(8))).isPresent());
            assertThat(screen).contains("chainsocks top: up ").contains("[s] sort  [q] quit");
            assertThat(screen).containsPattern("(?m)^0\\.0\\.0\\.0:" + REDIRECT_PORT + "\\s+main\\s+up\\s");
            List<String> fast = row(screen, FAST_PORT).orElseThrow();
            List<String> slow = row(screen, SLOW_PORT).orElseThrow();
            assertThat(fast.get(2)).isEqualTo(DESTINATION);
            assertThat(fast.get(3)).isEqualTo("main[socks5://" + WAN_V4 + ":" + HOP_PORT + "]");
            assertThat(fast.get(4)).isEqualTo("relay");
            assertThat(slow.get(2)).isEqualTo(DESTINATION);
            assertThat(lineOf(screen, FAST_PORT)).as(screen).isLessThan(lineOf(screen, SLOW_PORT));

            // s moves through up-rate, down-rate and bytes to age: the older, slow download comes first.
            for (int i = 0; i < 4; i++) {
                tmux("send-keys", "-t", "top", "s");
            }
            screen = awaitScreen("sorted by age", text -> text.contains("; sorted by age")
                    && row(text, FAST_PORT).isPresent() && row(text, SLOW_PORT).isPresent());
            assertThat(lineOf(screen, SLOW_PORT)).isLessThan(lineOf(screen, FAST_PORT));

            // q: top exits 0 and has left the alternate screen.
            tmux("send-keys", "-t", "top", "q");
            String status = await("top's exit status", () -> readIfExists(exitStatus), text -> !text.isEmpty());
            assertThat(status.strip()).as("top's exit status").isEqualTo("0");
            String dead = await("the pane's process ending",
                    () -> tmux("display-message", "-p", "-t", "top", "#{pane_dead}").strip(), "1"::equals);
            assertThat(dead).isEqualTo("1");
            assertThat(tmux("capture-pane", "-p", "-t", "top")).doesNotContain("chainsocks top: up");
            assertThat(service.process().isAlive()).isTrue();
        }
    }

    @Test
    void sigtermGivesTheTerminalBack() throws Exception {
        try (ChainsocksProcess service = startService()) {
            List<String> top = new ArrayList<>(ChainsocksProcess.command(topology.workspace(), "top",
                    "--control-socket", controlSocket.toString()));
            // sh writes its PID and becomes top (exec), so that PID is top's own. Once top has ended, the pane's
            // shell records the terminal's modes.
            Path pidFile = controlDirectory.resolve("top-pid");
            Path modes = controlDirectory.resolve("stty-after-top");
            String shellCommand = "sh -c " + shellQuote("echo $$ > " + shellQuote(pidFile.toString()) + "; exec "
                    + top.stream().map(TopE2E::shellQuote).collect(Collectors.joining(" ")))
                    + "; stty -a > " + shellQuote(modes.toString());
            tmux("new-session", "-d", "-s", "top", "-x", "160", "-y", "40", shellCommand, ";",
                    "set-option", "-t", "top", "remain-on-exit", "on");
            awaitScreen("top's first frame", text -> text.contains("chainsocks top: up "));
            assertThat(tmux("display-message", "-p", "-t", "top", "#{alternate_on}").strip()).isEqualTo("1");

            long pid = Long.parseLong(readIfExists(pidFile).strip());
            ProcessHandle topProcess = ProcessHandle.of(pid).orElseThrow();
            Command.run(List.of("kill", "-TERM", Long.toString(pid)), Duration.ofSeconds(10));
            assertThat(topProcess.onExit().get(SCREEN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).isAlive())
                    .isFalse();
            String stty = await("the terminal's modes after top", () -> readIfExists(modes),
                    text -> text.contains("speed"));
            // Line mode and echo are back (raw mode would print -icanon -echo).
            assertThat(stty).containsPattern("(?<![-\\w])icanon\\b").containsPattern("(?<![-\\w])echo\\b");
            // tmux parses the pane's output on its own schedule: the sequence that leaves the alternate screen may
            // be read after the shell has already written the modes.
            await("the normal screen again", () -> tmux("display-message", "-p", "-t", "top", "#{alternate_on}")
                    .strip(), "0"::equals);
            assertThat(tmux("capture-pane", "-p", "-t", "top")).doesNotContain("chainsocks top: up");
        }
    }

    @Test
    void oncePrintsOnePlainTableOfTheRunningInstance() throws Exception {
        try (ChainsocksProcess service = startService()) {
            startDownloads(service);
            // Polled until both sessions relay and the fast one has moved bytes between the two samples.
            String out = await("both downloads with a rate", () -> {
                Command.Result result = ChainsocksProcess.runToCompletion(topology.gw(), SCREEN_TIMEOUT, "top",
                        "--once", "--width", "100", "--sort", "age", "--control-socket", controlSocket.toString());
                assertThat(result.exitCode()).as(result.describe()).isZero();
                return result.stdout();
            }, text -> row(text, SLOW_PORT).isPresent()
                    && row(text, FAST_PORT).filter(r -> bytes(r.get(8)) > 0).isPresent());
            assertThat(out).doesNotContain(ESC).doesNotContain("\r").startsWith("chainsocks top: up ");
            assertThat(out.lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(100));
            List<String> lines = out.lines().toList();
            assertThat(lines.get(0)).contains(", 2 active, 2 accepted, 2 dialed, 0 failed");
            assertThat(lines.get(1)).endsWith("; sorted by age");
            assertThat(out).containsPattern("(?m)^0\\.0\\.0\\.0:" + REDIRECT_PORT + "\\s+main\\s+up\\s");
            List<String> fast = row(out, FAST_PORT).orElseThrow();
            assertThat(bytes(fast.get(8))).as("fast DOWN/s in\n%s", out).isGreaterThan(0);
            assertThat(lineOf(out, SLOW_PORT)).isLessThan(lineOf(out, FAST_PORT));
            assertThat(service.process().isAlive()).isTrue();
        }

        // Nothing listens any more: a message that says where it looked, and exit 1.
        Command.Result gone = once();
        assertThat(gone.exitCode()).as(gone.describe()).isEqualTo(1);
        assertThat(gone.stderr()).contains("cannot reach chainsocks control socket " + controlSocket);
    }

    private ChainsocksProcess startService() {
        ChainsocksProcess service = ChainsocksProcess.start(topology.gw(), "run", "run", "--config",
                config.toString());
        service.waitForPort("0.0.0.0", REDIRECT_PORT);
        return service;
    }

    /** The slow download, and once chainsocks has started its session, the fast one: the slow one is the older. */
    private void startDownloads(ChainsocksProcess service) {
        download(SLOW_PORT, SLOW_RATE);
        service.awaitLogLines(line -> line.contains(" start client=" + LAN_V4 + ":" + SLOW_PORT + " "), 1,
                SCREEN_TIMEOUT);
        download(FAST_PORT, FAST_RATE);
        service.awaitLogLines(line -> line.contains(" start client=" + LAN_V4 + ":" + FAST_PORT + " "), 1,
                SCREEN_TIMEOUT);
    }

    /** curl in lan from {@code localPort}, limited to {@code rate}; the teardown stops it. */
    private CompletableFuture<Command.Result> download(int localPort, String rate) {
        return CompletableFuture.supplyAsync(() -> topology.lan().run(DOWNLOAD_TIMEOUT, "curl", "-sS", "--fail",
                "--local-port", Integer.toString(localPort), "--limit-rate", rate, "--output", "/dev/null",
                web.url(WAN_V4, HttpFileServer.BIG_PATH)), background);
    }

    private Command.Result once() {
        return ChainsocksProcess.runToCompletion(topology.gw(), SCREEN_TIMEOUT, "top", "--once", "--interval",
                "200ms", "--control-socket", controlSocket.toString());
    }

    /** Polls the tmux pane until {@code ready}, at most {@link #SCREEN_TIMEOUT}. */
    private String awaitScreen(String what, Predicate<String> ready) throws InterruptedException {
        return await(what, () -> tmux("capture-pane", "-p", "-t", "top"), ready);
    }

    private static String await(String what, Supplier<String> screen, Predicate<String> ready)
            throws InterruptedException {
        long deadline = System.nanoTime() + SCREEN_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            last = screen.get();
            if (ready.test(last)) {
                return last;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("top did not show " + what + " within " + SCREEN_TIMEOUT.toSeconds()
                + " s; last screen:\n" + last);
    }

    /**
     * The connection row of the download from lan's {@code clientPort}, split into its columns: ID, CLIENT,
     * DESTINATION, CHAIN, STATE, UP, DOWN, UP/s, DOWN/s, AGE.
     */
    private static Optional<List<String>> row(String screen, int clientPort) {
        return screen.lines().map(String::strip).map(line -> List.of(line.split("\\s+")))
                .filter(columns -> columns.size() == 10 && columns.get(1).equals(LAN_V4 + ":" + clientPort))
                .findFirst();
    }

    private static int lineOf(String screen, int clientPort) {
        List<String> lines = screen.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(" " + LAN_V4 + ":" + clientPort + " ")) {
                return i;
            }
        }
        throw new AssertionError("no row for client port " + clientPort + " in\n" + screen);
    }

    /** {@code 512}, {@code 1.5K}, {@code 3.0M} as bytes; {@code -} (not measured yet) as -1. */
    private static double bytes(String value) {
        if (value.equals("-")) {
            return -1;
        }
        char unit = value.charAt(value.length() - 1);
        int shift = switch (unit) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        String number = shift == 0 ? value : value.substring(0, value.length() - 1);
        return Double.parseDouble(number) * (1L << shift);
    }

    private String tmux(String... args) {
        List<String> command = new ArrayList<>(List.of("tmux", "-S", tmuxSocket.toString()));
        command.addAll(List.of(args));
        return Command.run(command, Duration.ofSeconds(10)).requireSuccess().stdout();
    }

    private static String readIfExists(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
