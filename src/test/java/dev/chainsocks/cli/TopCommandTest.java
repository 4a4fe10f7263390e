package dev.chainsocks.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.chain.ChainState;
import dev.chainsocks.control.ControlServer;
import dev.chainsocks.redirect.SessionState;
import dev.chainsocks.service.ConnectionsReport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code chainsocks top}'s options, and {@code --once} over a real control socket. */
@Timeout(60)
class TopCommandTest {

    @TempDir
    Path directory;

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void onceSamplesTwiceOverTheControlSocketAndPrintsPlainTables() throws Exception {
        // A service whose one session receives 2 MiB per 500 ms of its uptime.
        AtomicLong samples = new AtomicLong();
        List<String> commands = Collections.synchronizedList(new ArrayList<>());
        Path socket = directory.resolve("control.sock");
        try (ControlServer server = ControlServer.start(socket, command -> {
            commands.add(command);
            long n = samples.getAndIncrement();
            return new ConnectionsReport(10_000 + n * 500,
                    new ConnectionsReport.Totals(1, 1, 1, Map.of(), 0, 0),
                    List.of(new ConnectionsReport.Connection(7, "198.18.1.2:40000", "198.19.2.3:443",
                            "main[socks5://198.19.2.2:1080]", SessionState.RELAY, 100, n * (2 << 20), 9_000 + n * 500)),
                    List.of(new ConnectionsReport.Chain("0.0.0.0:12345", "main", ChainState.UP, 9_500, 1, 0, null)))
                    .toJson();
        })) {
            Run run = run("top", "--once", "--interval", "100ms", "--control-socket", socket.toString());
            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(commands).containsExactly("connections --json", "connections --json");
            List<String> lines = run.out().lines().toList();
            assertThat(lines.get(0)).isEqualTo("chainsocks top: up 10.5s, 1 active, 1 accepted, 1 dialed, 0 failed");
            assertThat(lines.get(1)).isEqualTo("total up 100 at 0/s, down 2.0M at 4.0M/s; sorted by rate");
            assertThat(lines).contains("0.0.0.0:12345  main   up     9.5s   1       0        0  -",
                    " 7  198.18.1.2:40000  198.19.2.3:443  main[socks5://198.19.2.2:1080]  relay  100  2.0M     0"
                            + "    4.0M  9.5s");
            assertThat(run.out()).doesNotContain("\u001b");
        }
    }

    @Test
    void anUnreachableServiceIsNamedAndExitsOne() {
        Path socket = directory.resolve("nothing-here.sock");
        Run run = run("top", "--once", "--control-socket", socket.toString());
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("cannot reach chainsocks control socket " + socket);
        assertThat(run.out()).isEmpty();
    }

    @Test
    void anOlderServiceWithoutConnectionsJsonIsExplained() throws Exception {
        Path socket = directory.resolve("old.sock");
        try (ControlServer server = ControlServer.start(socket,
                command -> "error: unknown command \"" + command + "\" (status, status --json, connections, reload)\n")) {
            Run run = run("top", "--once", "--control-socket", socket.toString());
            assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
            assertThat(run.err()).contains("a chainsocks older than this one has no connections --json");
        }
    }

    @Test
    void badOptionsAreUsageErrors() {
        Path socket = directory.resolve("control.sock");
        assertThat(run("top", "--width", "80", "--control-socket", socket.toString()).exitCode())
                .isEqualTo(Main.EXIT_USAGE);
        assertThat(run("top", "--once", "--interval", "10ms", "--control-socket", socket.toString()).err())
                .contains("--interval 10ms is too short");
        Run sort = run("top", "--once", "--sort", "speed", "--control-socket", socket.toString());
        assertThat(sort.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(sort.err()).contains("unknown sort column \"speed\"; use one of rate, up-rate, down-rate, bytes, age");
        assertThat(Files.exists(socket)).isFalse();
    }
}
