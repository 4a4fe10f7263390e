package dev.chainsocks.e2e.fault;

import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many relayed connections at once under an open files limit that holds them: 2000 under {@code ulimit -n 5000}
 * in CI, 9000 under 20000 in the long run. Each is checked with an echo when opened and again before it closes;
 * chainsocks holds exactly two descriptors per connection, stays idle while they are, serves a newcomer meanwhile,
 * and gives every descriptor back when they close.
 */
@Tag("e2e")
class ConcurrentConnectionsE2E {

    private static final SoakLength LENGTH = SoakLength.current();
    private static final int LISTEN_PORT = 12345;
    private static final int SERVER_PORT = 9000;
    private static final int CONNECTIONS = LENGTH.pick(2000, 9000);
    private static final int OPEN_FILES = LENGTH.pick(5000, 20000);
    /** Descriptors beyond two per connection that may come and go while they are held (JVM files, a probe). */
    private static final int SLACK = 8;
    private static final double CALM_CPU_SHARE = 0.10;
    private static final Duration IDLE_WINDOW = Duration.ofSeconds(3);

    private static GatewayTopology topology;
    private static ChainsocksUnderLoad chainsocks;
    private static Endpoint target;

    @BeforeAll
    static void start() {
        Prerequisites.require("iptables", "ip6tables", "ss", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("ConcurrentConnectionsE2E");
        topology = GatewayTopology.create(workspace);
        // Every connection is held by the client in lan, the server in wan and the proxy too: the namespaces'
        // accept queues and the proxy's limit must take them all.
        for (Netns netns : List.of(topology.gw(), topology.wan())) {
            netns.sysctl("net.core.somaxconn", "4096");
        }
        LoadServer.start(topology.wan(), SERVER_PORT);
        SocksHop hop = SocksHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080),
                "--max-connections", Integer.toString(CONNECTIONS + 100));
        Path config = workspace.writeFile(workspace.newDirectory("config"), "chainsocks.toml", """
                [service]
                control-socket = "%s"

                [[listener]]
                listen = "0.0.0.0:%d"
                chains = ["one"]
                policy = "strict"

                [chain.one]
                hops = ["%s"]
                """.formatted(workspace.work().resolve("control.sock"), LISTEN_PORT, hop.uri()));
        chainsocks = ChainsocksUnderLoad.start(topology.gw(), "chainsocks", JvmFlags.shipped(), OPEN_FILES, config,
                false);
        hop.awaitListening();
        chainsocks.waitForPort("0.0.0.0", LISTEN_PORT);
        topology.redirectLanTcp(LISTEN_PORT);
        target = Endpoint.of(WAN_V4, SERVER_PORT);
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    private static LoadClient client(String name) {
        return LoadClient.in(topology.lan(), target).named(name).stepTimeout(Duration.ofSeconds(30))
                .maxTime(Duration.ofMinutes(LENGTH.pick(3, 10)));
    }

    @Test
    @Timeout(900)
    void holdsThemAllWithTwoDescriptorsEachAndGivesThemBack() {
        assertThat(client("warm-up").concurrency(16).churn(200, 64).allOk()).isTrue();
        awaitQuiet();
        // First, since jcmd leaves the JVM's attach listener socket open.
        OptionalLong heapBefore = HeapReport.liveHeapKib(chainsocks.pid());
        ProcessGauge.Sample before = chainsocks.gauge().sample();

        LoadClient.Held held = client("held").concurrency(200).hold(CONNECTIONS);
        LoadClient.Summary opened = held.opened();
        assertThat(opened.allOk()).as(opened.line()).isTrue();

        ProcessGauge.Sample windowStart = chainsocks.gauge().sample();
        LogTail.pause(IDLE_WINDOW);
        ProcessGauge.Sample holding = chainsocks.gauge().sample();
        assertThat(holding.fds() - before.fds()).as("descriptors for %d connections", CONNECTIONS)
                .isBetween(2 * CONNECTIONS, 2 * CONNECTIONS + SLACK);
        assertThat(holding.cpuShareSince(windowStart)).as("CPU, as a share of one core, while %d connections are"
                + " idle", CONNECTIONS).isLessThan(CALM_CPU_SHARE);
        OptionalLong heapHolding = HeapReport.liveHeapKib(chainsocks.pid());

        LoadClient.Summary newcomers = client("newcomers").concurrency(2).churn(10, 64);
        assertThat(newcomers.allOk()).as("served while %d are held: %s", CONNECTIONS, newcomers.line()).isTrue();

        LoadClient.Summary released = held.release();
        assertThat(released.allOk()).as("each held connection still relays: " + released.line()).isTrue();
        awaitQuiet();
        ProcessGauge.Sample after = chainsocks.gauge().sample();
        assertThat(after.fds()).as("descriptors once every connection closed").isEqualTo(before.fds());

        String heap = heapBefore.isPresent() && heapHolding.isPresent()
                ? String.format(Locale.ROOT, "; live heap %.1f MiB before, %.1f MiB holding them (%.2f"
                        + " KiB per connection)", heapBefore.getAsLong() / 1024.0, heapHolding.getAsLong() / 1024.0,
                (heapHolding.getAsLong() - heapBefore.getAsLong()) / (double) CONNECTIONS) : "";
        Figures.record("concurrent connections", "%d connections under ulimit -n %d opened in %.1f s and held; fds"
                + " %d -> %d -> %d; RSS %.1f -> %.1f MiB (%.1f KiB per connection) -> %.1f MiB after; CPU %.1f%%"
                + " of a core while they idled%s", CONNECTIONS, OPEN_FILES, opened.elapsedMillis() / 1000.0,
                before.fds(), holding.fds(), after.fds(), before.rssMib(), holding.rssMib(),
                (holding.rssKib() - before.rssKib()) / (double) CONNECTIONS, after.rssMib(),
                100 * holding.cpuShareSince(windowStart), heap);
    }

    /** Until every session chainsocks started has ended. */
    private static void awaitQuiet() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (chainsocks.log().endLines() < chainsocks.log().startLines()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError((chainsocks.log().startLines() - chainsocks.log().endLines())
                        + " sessions still open\n" + chainsocks.log().tail());
            }
            LogTail.pause(Duration.ofMillis(50));
        }
    }
}
