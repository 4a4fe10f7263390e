package dev.chainsocks.e2e.fault;

import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * chainsocks out of file descriptors. Started under {@code ulimit -n N}, it takes only as many connections as N
 * can hold and resets the rest at once. With the limit then lowered under it (prlimit), so that descriptors really
 * run out: a connection it accepted but cannot open an upstream socket for is reset and logged as a local failure,
 * never blamed on a proxy; with no descriptor even to accept, it pauses accepting with a backoff, logging once per
 * pause and staying idle meanwhile; and once connections drain it serves new ones again. Connections it already
 * relays keep working throughout.
 */
@Tag("e2e")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FdExhaustionE2E {

    private static final SoakLength LENGTH = SoakLength.current();
    private static final int LISTEN_PORT = 12345;
    private static final int SERVER_PORT = 9000;
    /** The open files limit chainsocks starts with. */
    private static final int OPEN_FILES = LENGTH.pick(400, 4000);
    /** Clients beyond what fits. */
    private static final int EXCESS = LENGTH.pick(100, 1000);
    /** Connections held while descriptors are taken away. */
    private static final int HELD = LENGTH.pick(20, 200);
    /** Clients that arrive while no upstream socket can be opened. */
    private static final int LATECOMERS = LENGTH.pick(20, 200);
    /** Clients that arrive while nothing can be accepted; they fit in the held connections' descriptors. */
    private static final int WAITING = HELD / 2;
    /** Descriptors allowed beyond (or below) those open when the limit is lowered. */
    private static final int SPARE = 4;
    /** Spare descriptors of the successive newcomer rounds, until one resets a newcomer: both parities, never 1. */
    private static final int[] SPARE_ROUNDS = {SPARE, SPARE - 1, SPARE + 1, SPARE - 2};
    /** Pauses at the longest backoff (1 s) that the quiet window lasts. */
    private static final int QUIET_PAUSES = LENGTH.pick(5, 30);
    /** The acceptor's backoff: 10 ms doubling to 1 s, so 7 pauses before the first of 1 s. */
    private static final int RAMP_PAUSES = 7;
    /** A process that spins on a failing accept uses a whole core; one that waits, a few per cent at most. */
    private static final double CALM_CPU_SHARE = 0.10;

    private static GatewayTopology topology;
    private static ChainsocksUnderLoad chainsocks;
    private static Endpoint target;

    @BeforeAll
    static void start() {
        Prerequisites.require("iptables", "ip6tables", "ss", "python3", "prlimit", "getconf");
        TestWorkspace workspace = TestWorkspace.forTest("FdExhaustionE2E");
        topology = GatewayTopology.create(workspace);
        LoadServer.start(topology.wan(), SERVER_PORT);
        SocksHop a = SocksHop.start(topology.wan(), "hop-a", Endpoint.of(WAN_V4, 1080));
        SocksHop b = SocksHop.start(topology.wan(), "hop-b", Endpoint.of(WAN_V4, 1081));
        Path config = workspace.writeFile(workspace.newDirectory("config"), "chainsocks.toml", """
                [service]
                control-socket = "%s"

                [timeouts]
                connect = "3s"

                [[listener]]
                listen = "0.0.0.0:%d"
                chains = ["a", "b"]
                policy = "failover"
                failover-backoff = "3s"

                [chain.a]
                hops = ["%s"]

                [chain.b]
                hops = ["%s"]
                """.formatted(workspace.work().resolve("control.sock"), LISTEN_PORT, a.uri(), b.uri()));
        chainsocks = ChainsocksUnderLoad.start(topology.gw(), "chainsocks", JvmFlags.shipped(), OPEN_FILES, config,
                true);
        a.awaitListening();
        b.awaitListening();
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
        return LoadClient.in(topology.lan(), target).named(name).stepTimeout(Duration.ofSeconds(5))
                .maxTime(Duration.ofMinutes(LENGTH.pick(2, 10)));
    }

    @Test
    @Order(1)
    @Timeout(600)
    void takesWhatTheOpenFilesLimitHoldsAndResetsTheRestAtOnce() {
        int fitting = (OPEN_FILES - 100 - OPEN_FILES / 50) / 2;
        assertThat(chainsocks.log().lines()).anyMatch(line -> line.contains("connection limit " + fitting
                + ": max-connections 10000 needs more file descriptors than the open files limit " + OPEN_FILES
                + " allows"));
        int mark = chainsocks.log().mark();

        LoadClient.Held held = client("over-the-limit").concurrency(200).hold(fitting + EXCESS);

        LoadClient.Summary opened = held.opened();
        assertThat(opened.ok()).as(opened.line()).isEqualTo(fitting);
        assertThat(opened.reason("reset")).as("every connection beyond the limit is reset at once, none waits: "
                + opened.line()).isEqualTo(EXCESS);
        List<String> limitLines = chainsocks.log().linesSince(mark).stream()
                .filter(line -> line.contains("connection limit " + fitting + " reached")).toList();
        assertThat(limitLines).as("one warning per 1000 resets").hasSizeBetween(1, 1 + EXCESS / 1000);
        assertThat(chainsocks.gauge().fds()).as("descriptors with the limit reached")
                .isLessThanOrEqualTo(OPEN_FILES);

        LoadClient.Summary released = held.release();
        assertThat(released.ok()).as("every held connection still relays: " + released.line()).isEqualTo(fitting);
        assertNoChainBlamed();
        Figures.record("fd exhaustion", "ulimit -n %d: %d of %d clients held (max-connections %d), %d reset at once"
                + " in %.1f s, %d limit warning(s)", OPEN_FILES, opened.ok(), opened.total(), fitting,
                opened.reason("reset"), opened.elapsedMillis() / 1000.0, limitLines.size());
    }

    @Test
    @Order(2)
    @Timeout(600)
    void outOfDescriptorsItRefusesLocallyThenBacksOffCalmlyAndRecovers() {
        LoadClient.Held held = client("held").hold(HELD);
        assertThat(held.opened().allOk()).as(held.opened().line()).isTrue();

        // A few descriptors to spare (a thread blocked in accept() holds one that /proc does not list yet, and the
        // JVM opens files of its own now and then): newcomers arriving together use them up being accepted, and
        // then no upstream socket can be opened for them. Each newcomer echoes once and closes, so descriptors come
        // back: one that could not be accepted waits in the backlog for the acceptor's next try.
        // Whether a newcomer is accepted into the last descriptor, with none left for its upstream socket, depends
        // on how accepts, dials and the newcomers' own ends interleave: a relayed newcomer takes two descriptors
        // and gives two back, a reset one takes one and gives it back. So when a round resets nobody, the next
        // round has one spare descriptor fewer or more (the other parity), a bounded number of times.
        int mark = chainsocks.log().mark();
        int resets = 0;
        int spareUsed = 0;
        LoadClient.Summary late = null;
        List<String> rounds = new ArrayList<>();
        for (int spare : SPARE_ROUNDS) {
            spareUsed = spare;
            chainsocks.setOpenFilesLimit(chainsocks.gauge().fds() + spare);
            late = client("no-upstream-socket").stepTimeout(Duration.ofSeconds(20))
                    .concurrency(LATECOMERS).churn(LATECOMERS, 1000);
            rounds.add(spare + " spare: " + late.line());
            assertThat(late.ok() + late.reason("reset")).as("each newcomer is relayed or reset, none is left "
                    + "hanging: " + late.line()).isEqualTo(LATECOMERS);
            resets += late.reason("reset");
            if (resets > 0) {
                break;
            }
        }
        assertThat(resets).as("newcomers reset for want of an upstream socket: " + rounds).isPositive();
        List<String> localFailures = chainsocks.log().await(line -> LogTail.isEnd(line)
                && line.contains(" outcome=local failure: "), mark, resets, Duration.ofSeconds(10));
        assertThat(localFailures).allMatch(line -> line.contains("Too many open files"));
        assertNoChainBlamed();

        // Fewer descriptors allowed than are open: accept() itself fails, and the acceptor pauses, 10 ms doubling
        // to 1 s. Newcomers wait in the listen backlog meanwhile. The limit is just under the descriptors of the
        // held connections, which were opened last, so once they close there is room again.
        chainsocks.setOpenFilesLimit(chainsocks.gauge().fds() - SPARE);
        mark = chainsocks.log().mark();
        LoadClient.Held waiting = client("no-descriptor").stepTimeout(Duration.ofSeconds(QUIET_PAUSES * 3L + 30))
                .concurrency(WAITING).startHold(WAITING);
        chainsocks.log().awaitLine(FdExhaustionE2E::isAcceptPause, mark, Duration.ofSeconds(10));
        ProcessGauge.Sample windowStart = chainsocks.gauge().sample();
        chainsocks.log().await(line -> isAcceptPause(line) && line.endsWith(" for 1000 ms"), mark, QUIET_PAUSES,
                Duration.ofSeconds(QUIET_PAUSES * 3L + 10));
        ProcessGauge.Sample windowEnd = chainsocks.gauge().sample();
        long pauses = chainsocks.log().linesSince(mark).stream().filter(FdExhaustionE2E::isAcceptPause).count();
        double seconds = windowEnd.since(windowStart).toMillis() / 1000.0;
        assertThat(pauses).as("one line per pause, not per waiting connection (%d): the ramp of %d, then one a"
                + " second for %.1f s", WAITING, RAMP_PAUSES, seconds)
                .isLessThanOrEqualTo(RAMP_PAUSES + (long) Math.ceil(seconds) + 1);
        assertThat(windowEnd.cpuShareSince(windowStart)).as("CPU, as a share of one core, while accept fails for"
                + " %.1f s", seconds).isLessThan(CALM_CPU_SHARE);

        LoadClient.Summary released = held.release();
        assertThat(released.ok()).as("connections relayed before the shortage still relay: " + released.line())
                .isEqualTo(HELD);
        LoadClient.Summary servedLate = waiting.opened();
        assertThat(servedLate.allOk()).as("connections that waited in the backlog are served once the held ones"
                + " closed: " + servedLate.line()).isTrue();
        waiting.release();
        LoadClient.Summary after = client("after").concurrency(4).churn(20, 1000);
        assertThat(after.allOk()).as("new connections are served: " + after.line()).isTrue();
        assertNoChainBlamed();
        Figures.record("fd exhaustion", "%d spare descriptors: %d of %d newcomers relayed, %d reset as local"
                + " failures, no chain marked down; no descriptor: %d accept pauses logged in %.1f s while %d"
                + " clients waited, CPU %.1f%% of a core; after the held connections closed the waiting ones were"
                + " all served (%.1f s after they arrived), then %d of %d new connections", spareUsed, late.ok(),
                LATECOMERS,
                late.reason("reset"), pauses, seconds, WAITING, 100 * windowEnd.cpuShareSince(windowStart),
                servedLate.elapsedMillis() / 1000.0, after.ok(), after.total());
    }

    private static boolean isAcceptPause(String line) {
        return line.contains(": accept failed (") && line.contains("pausing accepts for ");
    }

    /** A local shortage must never mark a proxy down, nor move traffic to another chain. */
    private static void assertNoChainBlamed() {
        assertThat(chainsocks.log().lines()).noneMatch(line -> line.contains(" is down")
                || line.contains("trying the next chain"));
    }
}
