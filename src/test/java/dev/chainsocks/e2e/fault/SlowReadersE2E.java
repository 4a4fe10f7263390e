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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Slow readers and one fast transfer at the same time, through one proxy. A slow reader's bytes wait in small
 * kernel socket buffers and in relay buffers while the relay's memory budget lasts; once it is spent, reads pause.
 * chainsocks' resident memory must stay within a bound derived from the budget and the heap, not grow with the
 * readers or the bytes moved, and every byte of every stream must arrive intact.
 */
@Tag("e2e")
class SlowReadersE2E {

    private static final SoakLength LENGTH = SoakLength.current();
    private static final int LISTEN_PORT = 12345;
    private static final int SERVER_PORT = 9000;
    private static final int SLOW_READERS = LENGTH.pick(100, 1000);
    private static final long SLOW_RATE = LENGTH.pick(32L << 10, 16L << 10);
    private static final long SLOW_BYTES = LENGTH.pick(256L << 10, 2L << 20);
    private static final int SOCKET_BUFFER_MAX = 128 << 10;
    private static final long FAST_BYTES = LENGTH.pick(384L << 20, 6L << 30);
    private static final long KIB = 1024;
    /**
     * The relay's memory budget ([relay] memory), smaller than what the slow readers would take at one buffer each
     * (128 KiB), so that the run also proves that reads pause when it is spent and nothing is lost. The relay runs
     * in copy mode, where its buffers are direct memory and so show in RSS (splice's pipes are kernel memory).
     */
    private static final long RELAY_MEMORY_KIB = 8 * KIB;
    private static final long NATIVE_ALLOWANCE_KIB = 16 * KIB;

    private static GatewayTopology topology;
    private static ChainsocksUnderLoad chainsocks;
    private static Endpoint target;

    @BeforeAll
    static void start() {
        Prerequisites.require("iptables", "ip6tables", "ss", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("SlowReadersE2E");
        topology = GatewayTopology.create(workspace);
        // Small socket buffers: a slow reader's bytes then wait in chainsocks' relay rather than in the kernel, and
        // a thousand of them cannot exhaust the kernel's TCP memory (tcp_mem is shared by every namespace; when it
        // runs out the kernel resets connections, ours and anybody's).
        for (Netns netns : List.of(topology.lan(), topology.gw(), topology.wan())) {
            netns.sysctl("net.ipv4.tcp_rmem", "4096 65536 " + SOCKET_BUFFER_MAX);
            netns.sysctl("net.ipv4.tcp_wmem", "4096 16384 " + SOCKET_BUFFER_MAX);
        }
        LoadServer.start(topology.wan(), SERVER_PORT);
        SocksHop hop = SocksHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080));
        Path config = workspace.writeFile(workspace.newDirectory("config"), "chainsocks.toml", """
                [service]
                control-socket = "%s"

                [[listener]]
                listen = "0.0.0.0:%d"
                chains = ["one"]
                policy = "strict"

                [chain.one]
                hops = ["%s"]

                [relay]
                mode = "copy"
                memory = "%dKiB"
                """.formatted(workspace.work().resolve("control.sock"), LISTEN_PORT, hop.uri(), RELAY_MEMORY_KIB));
        chainsocks = ChainsocksUnderLoad.start(topology.gw(), "chainsocks", JvmFlags.shipped(), 0, config, false);
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
        return LoadClient.in(topology.lan(), target).named(name).stepTimeout(Duration.ofSeconds(20))
                .maxTime(Duration.ofMinutes(LENGTH.pick(2, 10)));
    }

    @Test
    @Timeout(900)
    void memoryStaysBoundedAndEveryByteArrives() {
        // Warm up the paths the run takes, so the baseline includes loaded classes and compiled code.
        assertThat(client("warm-up").concurrency(16).churn(200, 4096).allOk()).isTrue();
        assertThat(client("warm-up-stream").streams(LoadClient.StreamMode.DOWNLOAD, 2, 32L << 20, 0).allOk())
                .isTrue();
        ProcessGauge.Sample fresh = chainsocks.gauge().sample();

        ProcessGauge.Watch watch = chainsocks.gauge().watch(Duration.ofMillis(200));
        LoadClient.Running slow = client("slow-readers").concurrency(SLOW_READERS)
                .startStreams(LoadClient.StreamMode.DOWNLOAD, SLOW_READERS, SLOW_BYTES, SLOW_RATE);
        slow.awaitFlowing(SLOW_READERS, Duration.ofSeconds(60));
        LoadClient.Summary fast = client("fast").streams(LoadClient.StreamMode.DOWNLOAD, 1, FAST_BYTES, 0);
        LoadClient.Summary slowDone = slow.await();
        ProcessGauge.Extremes during = watch.stop();
        ProcessGauge.Sample after = chainsocks.gauge().sample();

        assertThat(fast.allOk()).as("the fast transfer, every byte compared: " + fast.line()).isTrue();
        assertThat(fast.bytes()).isEqualTo(FAST_BYTES);
        assertThat(slowDone.allOk()).as("every slow reader, every byte compared: " + slowDone.line()).isTrue();
        // The relay's budget (pooled buffers included), the heap up to -Xmx (the serial collector may fill the old
        // generation before compacting it) and some native memory: not one buffer per slow reader.
        long maxHeapKib = JvmFlags.shipped().maxHeapKib().orElseThrow(
                () -> new AssertionError("the unit's JVM flags set no -Xmx: " + JvmFlags.shipped()));
        long bound = fresh.rssKib() + RELAY_MEMORY_KIB + maxHeapKib + NATIVE_ALLOWANCE_KIB;
        assertThat(during.maxRssKib()).as("highest RSS (KiB) while %d slow readers and %d MiB went through; fresh"
                + " %d KiB, -Xmx %d KiB", SLOW_READERS, FAST_BYTES >> 20, fresh.rssKib(), maxHeapKib)
                .isLessThanOrEqualTo(bound);
        Figures.record("slow readers", "%d slow readers (%d KiB each at %d KiB/s) and one %d MiB transfer at %.0f"
                + " MiB/s, all intact; RSS fresh %.1f MiB, highest %.1f MiB (bound %.1f MiB), after %.1f MiB; fds"
                + " highest %d", SLOW_READERS, SLOW_BYTES >> 10, SLOW_RATE >> 10, FAST_BYTES >> 20,
                (FAST_BYTES / 1048576.0) / (fast.elapsedMillis() / 1000.0), fresh.rssMib(), during.maxRssMib(),
                bound / 1024.0, after.rssMib(), during.maxFds());
    }
}
