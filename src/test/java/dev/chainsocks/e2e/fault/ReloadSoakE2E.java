package dev.chainsocks.e2e.fault;

import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A soak: rounds of many short connections together with long checksummed streams (echo and download, IPv4 and
 * IPv6), while SIGHUP reloads swap the chain's proxy back and forth. No stream may be cut or corrupted, no short
 * connection fail, and no reload be rejected. Between rounds, once every connection has closed, chainsocks'
 * descriptors must be exactly what they were after the warm-up round, and its RSS within {@link #RSS_GROWTH_KIB} of
 * it.
 *
 * <p>The soak runs with the unit's JVM flags. {@code -Dchainsocks.soak.flags="name=-Xopt -Xopt;name2=..."} adds
 * other flag sets to compare (each on a fresh process, in the same run, figures in {@code target/fault-figures.txt});
 * the long run compares with the flags the unit had before. The RSS bound is asserted for the unit's flags only.
 */
@Tag("e2e")
class ReloadSoakE2E {

    private static final SoakLength LENGTH = SoakLength.current();
    private static final int LISTEN_PORT = 12345;
    private static final int SERVER_PORT = 9000;
    /** Load rounds after the warm-up round; the long run stops starting rounds after {@link #SOAK_TIME}. */
    private static final int ROUNDS = LENGTH.pick(2, 1000);
    private static final Duration SOAK_TIME = Duration.ofMinutes(Long.getLong("chainsocks.soak.minutes",
            LENGTH.pick(1, 3)));
    private static final int SHORT_CONNECTIONS = LENGTH.pick(600, 6000);
    private static final int CONCURRENCY = 32;
    private static final int STREAMS = LENGTH.pick(2, 4);
    private static final long STREAM_BYTES = LENGTH.pick(12L << 20, 96L << 20);
    private static final int RELOADS_PER_ROUND = LENGTH.pick(3, 10);
    /** After the soak, RSS is read once more after this long with nothing to do. */
    private static final Duration IDLE_AFTER = Duration.ofSeconds(10);
    /**
     * RSS growth allowed from the end of the warm-up round to the end of any later round, with every connection
     * closed. The warm-up has loaded the classes, compiled the hot code and started every thread; what may still
     * grow is the heap, which the unit's flags keep near the live data (8 MiB committed for 5 MiB live through the
     * whole long soak), the relay buffers the event loops pool (16 of 64 KiB per loop) and malloc's arenas, which
     * keep some native memory that was freed. Measured: under 6 MiB.
     */
    private static final long RSS_GROWTH_KIB = 16 * 1024;

    private static TestWorkspace workspace;
    /** The idle splice pipes the event loops may keep (BufferPool: 16 per loop, one loop per core up to 8). */
    private static final int POOLED_PIPE_FDS = 2 * 16 * Math.min(Runtime.getRuntime().availableProcessors(), 8);

    private static GatewayTopology topology;
    private static SocksHop hop1;
    private static SocksHop hop2;
    private static Path config;

    @BeforeAll
    static void start() {
        Prerequisites.require("iptables", "ip6tables", "ss", "python3");
        workspace = TestWorkspace.forTest("ReloadSoakE2E");
        topology = GatewayTopology.create(workspace);
        LoadServer.start(topology.wan(), SERVER_PORT);
        hop1 = SocksHop.start(topology.wan(), "hop1", Endpoint.of(WAN_V4, 1080));
        hop2 = SocksHop.start(topology.wan(), "hop2", Endpoint.of(WAN_V4, 1081));
        config = workspace.newDirectory("config").resolve("chainsocks.toml");
        writeConfig(0);
        hop1.awaitListening();
        hop2.awaitListening();
        topology.redirectLanTcp(LISTEN_PORT);
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    static Stream<JvmFlags> flagSets() {
        List<JvmFlags> sets = new ArrayList<>(List.of(JvmFlags.shipped()));
        String extra = System.getProperty("chainsocks.soak.flags", "").strip();
        if (!extra.isEmpty()) {
            Arrays.stream(extra.split(";")).map(JvmFlags::parse).forEach(sets::add);
        } else if (LENGTH.isLong()) {
            sets.add(JvmFlags.PREVIOUS);
        }
        return sets.stream();
    }

    /** Reload number {@code n}: the chain goes through hop1 or hop2, and the handshake timeout changes too. */
    private static void writeConfig(int n) {
        String toml = """
                [service]
                control-socket = "%s"

                [timeouts]
                handshake = "%ds"

                [[listener]]
                listen = "[::]:%d"
                chains = ["main"]
                policy = "strict"

                [chain.main]
                hops = ["%s"]
                """.formatted(workspace.work().resolve("control.sock"), 10 + n % 2, LISTEN_PORT,
                (n % 2 == 0 ? hop1 : hop2).uri());
        try {
            Path next = config.resolveSibling("next.toml");
            Files.writeString(next, toml);
            Files.move(next, config, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static LoadClient client(String name, Endpoint target) {
        return LoadClient.in(topology.lan(), target).named(name).stepTimeout(Duration.ofSeconds(20))
                .maxTime(Duration.ofMinutes(LENGTH.pick(2, 10)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flagSets")
    @Timeout(1800)
    void noStreamIsCutAndMemoryAndDescriptorsStayFlat(JvmFlags flags) {
        writeConfig(0);
        try (ChainsocksUnderLoad chainsocks = ChainsocksUnderLoad.start(topology.gw(), "chainsocks-" + flags.name(),
                flags, 0, config, false)) {
            chainsocks.waitForPort("::", LISTEN_PORT);
            ProcessGauge.Sample fresh = chainsocks.gauge().sample();
            Soak soak = new Soak(chainsocks);

            soak.round(0);
            ProcessGauge.Sample warm = soak.quiescent();
            Totals afterWarmUp = soak.totals();
            ProcessGauge.Watch watch = chainsocks.gauge().watch(Duration.ofMillis(500));
            long started = System.nanoTime();
            List<ProcessGauge.Sample> afterRounds = new ArrayList<>();
            int round = 1;
            while (round <= ROUNDS && (round == 1 || System.nanoTime() - started < SOAK_TIME.toNanos())) {
                soak.round(round++);
                afterRounds.add(soak.quiescent());
            }
            Duration soaked = Duration.ofNanos(System.nanoTime() - started);
            ProcessGauge.Extremes peak = watch.stop();
            ProcessGauge.Sample end = afterRounds.get(afterRounds.size() - 1);
            LogTail.pause(IDLE_AFTER);
            ProcessGauge.Sample idle = chainsocks.gauge().sample();
            HeapReport.describe(chainsocks.pid(), workspace.logs().resolve("memory-" + flags.name() + ".txt"));

            assertThat(chainsocks.log().lines()).noneMatch(line -> line.contains("reload rejected"));
            assertThat(chainsocks.log().count(line -> line.contains("configuration reloaded: 1 listener(s) kept,"
                    + " 0 opened"))).as("reloads done").isEqualTo(soak.totals().reloads());
            // Sockets exactly as after the warm-up; the splice pipes the event loops keep for reuse may grow up
            // to their pools' size (16 pipes, 32 descriptors, per loop) when a round ran more relays at once.
            assertThat(afterRounds).as("descriptors other than pipes with every connection closed, after each round;"
                    + " after the warm-up: %s", warm).allMatch(sample -> sample.nonPipeFds() == warm.nonPipeFds());
            assertThat(afterRounds).as("pipe descriptors after each round").allMatch(sample -> sample.pipeFds()
                    <= Math.max(warm.pipeFds(), POOLED_PIPE_FDS));
            Totals measured = soak.totals().minus(afterWarmUp);
            String perRound = afterRounds.stream().map(sample -> String.format(Locale.ROOT, "%.0f", sample.rssMib()))
                    .collect(Collectors.joining(" "));
            Figures.record("reload soak", "%s: %d rounds in %d s after a warm-up round: %d short connections, %d"
                    + " streams (%d MiB), %d reloads, none failed; RSS fresh %.1f MiB, after warm-up %.1f, peak %.1f,"
                    + " after the soak %.1f, %d s later %.1f; after each round %s MiB; fds %d after every round", flags,
                    round - 1, soaked.toSeconds(), measured.connections(), measured.streams(), measured.bytes() >> 20,
                    measured.reloads(), fresh.rssMib(), warm.rssMib(), peak.maxRssMib(), end.rssMib(),
                    IDLE_AFTER.toSeconds(), idle.rssMib(), perRound, end.fds());
            if (flags.name().equals("shipped")) {
                assertThat(afterRounds).as("RSS (KiB) after each round, within %d of the %d after the warm-up round",
                        RSS_GROWTH_KIB, warm.rssKib()).allMatch(sample -> sample.rssKib() <= warm.rssKib()
                        + RSS_GROWTH_KIB);
            }
        }
    }

    /** What a soak did so far. */
    private record Totals(int connections, int streams, long bytes, int reloads) {
        Totals minus(Totals earlier) {
            return new Totals(connections - earlier.connections, streams - earlier.streams, bytes - earlier.bytes,
                    reloads - earlier.reloads);
        }
    }

    /** The load of one run; counts what it did. */
    private static final class Soak {
        private final ChainsocksUnderLoad chainsocks;
        private final AtomicInteger reloads = new AtomicInteger();
        private final AtomicInteger connections = new AtomicInteger();
        private final AtomicInteger streams = new AtomicInteger();
        private final AtomicLong streamBytes = new AtomicLong();

        Soak(ChainsocksUnderLoad chainsocks) {
            this.chainsocks = chainsocks;
        }

        Totals totals() {
            return new Totals(connections.get(), streams.get(), streamBytes.get(), reloads.get());
        }

        /** Streams and short connections at once, with reloads until the short connections are done. */
        void round(int round) {
            Endpoint v4 = Endpoint.of(WAN_V4, SERVER_PORT);
            Endpoint v6 = Endpoint.of(WAN_V6, SERVER_PORT);
            LoadClient.Running echoes = client("echo-" + round, round % 2 == 0 ? v4 : v6)
                    .startStreams(LoadClient.StreamMode.ECHO, STREAMS, STREAM_BYTES, 0);
            LoadClient.Running downloads = client("download-" + round, round % 2 == 0 ? v6 : v4)
                    .startStreams(LoadClient.StreamMode.DOWNLOAD, STREAMS, STREAM_BYTES, 0);
            AtomicBoolean churning = new AtomicBoolean(true);
            CompletableFuture<Void> reloading = CompletableFuture.runAsync(() -> reload(churning));
            LoadClient.Summary churn;
            try {
                churn = client("churn-" + round, v4).concurrency(CONCURRENCY).churn(SHORT_CONNECTIONS, 512);
            } finally {
                churning.set(false);
            }
            reloading.join();
            LoadClient.Summary echoed = echoes.await();
            LoadClient.Summary downloaded = downloads.await();
            assertThat(churn.allOk()).as("short connections, round %d: %s", round, churn.line()).isTrue();
            assertThat(echoed.allOk()).as("echo streams, round %d: %s", round, echoed.line()).isTrue();
            assertThat(downloaded.allOk()).as("downloads, round %d: %s", round, downloaded.line()).isTrue();
            connections.addAndGet(churn.total());
            streams.addAndGet(echoed.total() + downloaded.total());
            streamBytes.addAndGet(echoed.bytes() + downloaded.bytes());
        }

        /** Up to {@link #RELOADS_PER_ROUND} SIGHUPs, each once the previous one was done, while load runs. */
        private void reload(AtomicBoolean churning) {
            for (int i = 0; i < RELOADS_PER_ROUND && churning.get(); i++) {
                LogTail.pause(Duration.ofMillis(300));
                int n = reloads.incrementAndGet();
                writeConfig(n);
                int mark = chainsocks.log().mark();
                chainsocks.sighup();
                chainsocks.log().awaitLine(line -> line.contains("configuration reloaded: ")
                        || line.contains("reload rejected"), mark, Duration.ofSeconds(20));
            }
        }

        /** Waits until every session has ended, then samples. */
        ProcessGauge.Sample quiescent() {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (chainsocks.log().endLines() < chainsocks.log().startLines()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(chainsocks.log().startLines() - chainsocks.log().endLines()
                            + " sessions still open 30 s after the load ended\n" + chainsocks.log().tail());
                }
                LogTail.pause(Duration.ofMillis(50));
            }
            return chainsocks.gauge().sample();
        }
    }
}
