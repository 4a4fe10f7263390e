package dev.chainsocks.e2e.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.control.ControlClient;
import dev.chainsocks.e2e.TestWorkspace;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What systemd hears from {@code chainsocks run} over {@code $NOTIFY_SOCKET}, through a whole life: start, periodic
 * status, watchdog pings, a good and a bad reload, SIGTERM.
 *
 * <p>This is a plain (surefire) test, not an e2e one: nothing here needs a namespace or root — the listener is on
 * loopback and nothing is redirected — so it runs {@code Main} in a child JVM on the test classpath (see
 * {@link ServiceJvm}) with the environment systemd would give it. It therefore runs on every {@code mvn test}; the
 * packaged jar's notifications are covered by {@code ControlAndReloadE2E}.
 */
@Timeout(120)
class NotifySequenceTest {

    private static final Duration START = Duration.ofSeconds(30);
    private static final Duration SOON = Duration.ofSeconds(5);
    /** systemd's WatchdogSec=400ms: chainsocks must ping every 200 ms. */
    private static final String WATCHDOG_USEC = "400000";

    @TempDir
    Path dir;

    private TestWorkspace workspace;
    private Path config;
    private Path controlSocket;
    private int port;

    @BeforeEach
    void setUp(TestInfo test) throws IOException {
        workspace = TestWorkspace.forTest("NotifySequenceTest." + test.getTestMethod().orElseThrow().getName());
        config = dir.resolve("chainsocks.toml");
        controlSocket = dir.resolve("control.sock");
        port = freeLoopbackPort();
        Files.writeString(config, config(100));
    }

    @Test
    void readyStatusWatchdogReloadsAndStoppingArriveInOrder() throws Exception {
        try (NotifySocketReceiver systemd = NotifySocketReceiver.bind(dir.resolve("notify"));
                ServiceJvm service = start(Map.of("NOTIFY_SOCKET", systemd.path().toString(),
                        "WATCHDOG_USEC", WATCHDOG_USEC))) {
            int ready = systemd.awaitMessage(0, "READY=1", START);
            // The watchdog timer starts with the service; pings before READY=1 are harmless. Nothing else may
            // come first: READY=1 is the first thing systemd must hear.
            assertThat(systemd.messages().subList(0, ready)).allMatch("WATCHDOG=1"::equals);
            requireHangupHandled(service);

            int status = systemd.awaitMessage(ready + 1, m -> m.startsWith("STATUS="), "STATUS=", SOON);
            assertThat(systemd.messages().get(status)).isEqualTo("STATUS=0 active, 0 accepted, 0 failed");
            int ping = systemd.awaitMessage(ready + 1, "WATCHDOG=1", SOON);
            ping = systemd.awaitMessage(ping + 1, "WATCHDOG=1", SOON);

            // A client straight at the port, not redirected: accepted, then refused (no original destination or
            // the loop guard). The periodic STATUS, every 5 s, counts it.
            try (Socket client = new Socket()) {
                client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
                client.setSoTimeout(5_000);
                try {
                    assertThat(client.getInputStream().read()).isEqualTo(-1);
                } catch (java.net.SocketException reset) {
                    // closed with a reset: just as good
                }
            }
            int periodic = systemd.awaitMessage(status + 1, "STATUS=0 active, 1 accepted, 1 failed",
                    Duration.ofSeconds(12));

            // SIGHUP reloads: RELOADING=1 with the monotonic clock, then READY=1 and a fresh STATUS.
            Files.writeString(config, config(200));
            long uptimeMicros = uptimeMicros();
            service.signal("HUP");
            int reloading = awaitReloading(systemd, periodic + 1);
            long firstReload = monotonicMicros(systemd.messages().get(reloading));
            assertThat(firstReload).isBetween(uptimeMicros - 60_000_000L, uptimeMicros + 60_000_000L);
            int readyAgain = systemd.awaitMessage(reloading + 1, "READY=1", SOON);
            assertOnlyWatchdogBetween(systemd, reloading, readyAgain);
            systemd.awaitMessage(readyAgain + 1, "STATUS=0 active, 1 accepted, 1 failed", SOON);
            service.awaitLog("configuration reloaded", SOON);

            // A bad file over the control socket: rejected, but systemd still hears RELOADING=1 ... READY=1, or it
            // would wait for the reload to end (Type=notify-reload).
            Files.writeString(config, config(300) + "[timeouts]\nidel = \"5m\"\n");
            String answer = ControlClient.send(controlSocket, "reload");
            assertThat(answer).startsWith("error: reload rejected, the running configuration stays:");
            int rejected = awaitReloading(systemd, readyAgain + 1);
            assertThat(monotonicMicros(systemd.messages().get(rejected))).isGreaterThan(firstReload);
            int readyAfterRejected = systemd.awaitMessage(rejected + 1, "READY=1", SOON);
            assertOnlyWatchdogBetween(systemd, rejected, readyAfterRejected);

            // Still alive and still pinging.
            ping = systemd.awaitMessage(readyAfterRejected + 1, "WATCHDOG=1", SOON);
            ping = systemd.awaitMessage(ping + 1, "WATCHDOG=1", SOON);

            service.signal("TERM");
            int stopping = systemd.awaitMessage(ping + 1, "STOPPING=1", SOON);
            assertThat(service.awaitExit(Duration.ofSeconds(20))).as(service.logText()).isZero();
            List<String> afterStopping = systemd.messages().subList(stopping + 1, systemd.messages().size());
            assertThat(afterStopping).as(NotifySocketReceiver.describe(systemd.messages()))
                    .noneMatch(m -> m.startsWith("READY=") || m.startsWith("RELOADING="));
            assertThat(systemd.messages()).filteredOn("READY=1"::equals).hasSize(3);
        }
    }

    /**
     * Started with SIGHUP ignored, as {@code nohup} (or a build started under it) leaves it: the handler is installed
     * all the same, and SIGHUP still reloads.
     */
    @Test
    void sighupReloadsEvenWhenInheritedIgnored() throws Exception {
        try (NotifySocketReceiver systemd = NotifySocketReceiver.bind(dir.resolve("notify"));
                ServiceJvm service = ServiceJvm.startWithHangupIgnored(workspace.newLogFile("run"),
                        TestWorkspace.targetDirectory().resolve("jffi"), Map.of("NOTIFY_SOCKET",
                                systemd.path().toString()), "run", "--config", config.toString(),
                        "--control-socket", controlSocket.toString())) {
            int ready = systemd.awaitMessage(0, "READY=1", START);
            requireHangupHandled(service);
            // The line proves the child did inherit SIGHUP ignored; the kernel's SigIgn that it no longer is.
            service.awaitLog("SIGHUP was ignored when chainsocks started (nohup?); it reloads the configuration all"
                    + " the same", SOON);
            assertThat(hangupIgnored(service.pid())).as("SIGHUP ignored by the running service").isFalse();
            Files.writeString(config, config(200));
            service.signal("HUP");
            int reloading = awaitReloading(systemd, ready + 1);
            systemd.awaitMessage(reloading + 1, "READY=1", SOON);
            service.awaitLog("configuration reloaded", SOON);
            service.signal("TERM");
            assertThat(service.awaitExit(Duration.ofSeconds(20))).as(service.logText()).isZero();
        }
    }

    /**
     * The SIGHUP steps need chainsocks' reload handler. When this JVM inherited SIGHUP ignored (a build under
     * {@code nohup}) and chainsocks could not install the handler anyway, they cannot run: say so instead of
     * failing on a reload that was never going to come.
     */
    private static void requireHangupHandled(ServiceJvm service) {
        String log = service.logText();
        String cannot = "SIGHUP was ignored when chainsocks started (nohup?) and";
        if (!log.contains(cannot)) {
            return;
        }
        String line = log.lines().filter(l -> l.contains(cannot)).findFirst().orElseThrow();
        String why = "SIGHUP arrives ignored in this build (started under nohup?) and chainsocks could not handle "
                + "it here, so the SIGHUP reload cannot be tested: " + line;
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(why);
        }
        Assumptions.abort(why);
    }

    /** Whether SIGHUP (bit 0 of SigIgn in /proc/PID/status) is ignored by the process. */
    private static boolean hangupIgnored(long pid) throws IOException {
        String sigIgn = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(line -> line.startsWith("SigIgn:")).findFirst().orElseThrow()
                .substring("SigIgn:".length()).trim();
        return (Long.parseUnsignedLong(sigIgn, 16) & 1L) != 0;
    }

    @Test
    void watchdogMeantForAnotherProcessIsNotPinged() throws Exception {
        try (NotifySocketReceiver systemd = NotifySocketReceiver.bind(dir.resolve("notify"));
                ServiceJvm service = start(Map.of("NOTIFY_SOCKET", systemd.path().toString(),
                        "WATCHDOG_USEC", WATCHDOG_USEC, "WATCHDOG_PID", "1"))) {
            int ready = systemd.awaitMessage(0, "READY=1", START);
            Thread.sleep(1_000);
            service.signal("TERM");
            systemd.awaitMessage(ready + 1, "STOPPING=1", SOON);
            assertThat(service.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(systemd.messages()).doesNotContain("WATCHDOG=1");
        }
    }

    @Test
    void withoutNotifySocketTheServiceRunsAndStopsAsUsual() throws Exception {
        try (ServiceJvm service = start(Map.of("WATCHDOG_USEC", WATCHDOG_USEC))) {
            awaitControlSocket(service);
            assertThat(ControlClient.send(controlSocket, "ping")).isEqualTo("pong\n");
            service.signal("TERM");
            assertThat(service.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(service.logText()).doesNotContain("could not notify systemd");
        }
    }

    private ServiceJvm start(Map<String, String> environment) {
        return ServiceJvm.start(workspace.newLogFile("run"), TestWorkspace.targetDirectory().resolve("jffi"),
                environment, "run", "--config", config.toString(), "--control-socket", controlSocket.toString());
    }

    private void awaitControlSocket(ServiceJvm service) throws InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        while (!Files.exists(controlSocket)) {
            assertThat(service.isAlive()).as(service.logText()).isTrue();
            assertThat(System.nanoTime()).as("control socket within " + START).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static int awaitReloading(NotifySocketReceiver systemd, int from) {
        return systemd.awaitMessage(from, m -> m.matches("RELOADING=1\nMONOTONIC_USEC=\\d+"),
                "RELOADING=1\\nMONOTONIC_USEC=<n>", SOON);
    }

    private static void assertOnlyWatchdogBetween(NotifySocketReceiver systemd, int from, int to) {
        assertThat(systemd.messages().subList(from + 1, to)).as(NotifySocketReceiver.describe(systemd.messages()))
                .allMatch("WATCHDOG=1"::equals);
    }

    private static long monotonicMicros(String reloading) {
        return Long.parseLong(reloading.substring(reloading.indexOf("MONOTONIC_USEC=") + "MONOTONIC_USEC=".length()));
    }

    /** CLOCK_MONOTONIC as /proc/uptime approximates it (they differ only by time spent suspended). */
    private static long uptimeMicros() throws IOException {
        return (long) (Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]) * 1_000_000);
    }

    private String config(int maxConnections) {
        return String.join("\n",
                "[service]",
                "max-connections = " + maxConnections,
                "shutdown-grace = \"5s\"",
                "",
                "[[listener]]",
                "listen = \"127.0.0.1:" + port + "\"",
                "chains = [\"direct\"]",
                "policy = \"strict\"",
                "",
                "[chain.direct]",
                "hops = []",
                "");
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
