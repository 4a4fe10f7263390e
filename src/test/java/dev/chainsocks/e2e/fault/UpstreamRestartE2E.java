package dev.chainsocks.e2e.fault;

import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
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
 * The first proxy of the preferred chain is killed (SIGKILL) in the middle of transfers and started again. Streams
 * through it end at once for their clients (the kernel closes the dead proxy's sockets with an EOF, or a reset where
 * bytes were unread, and chainsocks passes on what it got), new connections go
 * to the second chain without waiting for any timeout, and once the proxy is back chainsocks' own probe returns the
 * chain to first place within the failover backoff plus the probe's one-second tick; no user's connection is spent
 * finding that out.
 */
@Tag("e2e")
class UpstreamRestartE2E {

    private static final SoakLength LENGTH = SoakLength.current();
    private static final int LISTEN_PORT = 12345;
    private static final int SERVER_PORT = 9000;
    private static final Duration BACKOFF = Duration.ofSeconds(LENGTH.pick(3, 10));
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    /** Streams in each direction through the proxy when it dies. */
    private static final int STREAMS = LENGTH.pick(4, 16);
    private static final int CYCLES = LENGTH.pick(1, 3);
    /** Longer than any stream lasts before the kill: the streams are cut, never finished. */
    private static final long STREAM_BYTES = 64L << 30;
    /** From the kill until every client has seen its stream end. */
    private static final Duration STREAMS_END_WITHIN = Duration.ofSeconds(3);
    /** The probe runs once a second; the rest allows for finding the log line, polled every 20 ms. */
    private static final Duration PROBE_TICK = Duration.ofSeconds(1);
    private static final Duration DETECTION = Duration.ofMillis(500);

    private static GatewayTopology topology;
    private static ChainsocksUnderLoad chainsocks;
    private static SocksHop primary;
    private static SocksHop secondary;
    private static Endpoint target;

    @BeforeAll
    static void start() {
        Prerequisites.require("iptables", "ip6tables", "ss", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("UpstreamRestartE2E");
        topology = GatewayTopology.create(workspace);
        LoadServer.start(topology.wan(), SERVER_PORT);
        primary = SocksHop.start(topology.wan(), "primary", Endpoint.of(WAN_V4, 1080));
        secondary = SocksHop.start(topology.wan(), "secondary", Endpoint.of(WAN_V4, 1081));
        Path config = workspace.writeFile(workspace.newDirectory("config"), "chainsocks.toml", """
                [service]
                control-socket = "%s"

                [timeouts]
                connect = "%ds"

                [[listener]]
                listen = "0.0.0.0:%d"
                chains = ["primary", "secondary"]
                policy = "failover"
                failover-backoff = "%ds"

                [chain.primary]
                hops = ["%s"]

                [chain.secondary]
                hops = ["%s"]
                """.formatted(workspace.work().resolve("control.sock"), CONNECT_TIMEOUT.toSeconds(), LISTEN_PORT,
                BACKOFF.toSeconds(), primary.uri(), secondary.uri()));
        chainsocks = ChainsocksUnderLoad.start(topology.gw(), "chainsocks", JvmFlags.shipped(), 0, config, true);
        primary.awaitListening();
        secondary.awaitListening();
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
        return LoadClient.in(topology.lan(), target).named(name).stepTimeout(Duration.ofSeconds(10))
                .maxTime(Duration.ofSeconds(120));
    }

    @Test
    @Timeout(600)
    void killedProxyCutsItsStreamsAtOnceFailsOverAndIsProbedBack() {
        assertThat(lastChainOf(client("warm-up").churn(4, 100), 4)).isEqualTo("primary");
        for (int cycle = 1; cycle <= CYCLES; cycle++) {
            cycle(cycle);
        }
    }

    private void cycle(int cycle) {
        LoadClient.Running downloads = client("downloads-" + cycle).concurrency(STREAMS)
                .startStreams(LoadClient.StreamMode.DOWNLOAD, STREAMS, STREAM_BYTES, 0);
        LoadClient.Running echoes = client("echoes-" + cycle).concurrency(STREAMS)
                .startStreams(LoadClient.StreamMode.ECHO, STREAMS, STREAM_BYTES, 0);
        downloads.awaitFlowing(STREAMS, Duration.ofSeconds(30));
        echoes.awaitFlowing(STREAMS, Duration.ofSeconds(30));

        long killed = System.nanoTime();
        primary.kill();
        Duration allEnded = awaitEnded(killed, downloads, echoes);
        LoadClient.Summary down = downloads.await();
        LoadClient.Summary echo = echoes.await();
        assertThat(allEnded).as("from SIGKILL until every client saw its stream end").isLessThan(STREAMS_END_WITHIN);
        assertThat(down.reason("closed") + down.reason("reset")).as("the proxy's EOF passed on as an EOF, or a"
                + " reset: " + down.line()).isEqualTo(STREAMS);
        assertThat(echo.reason("closed") + echo.reason("reset")).as(echo.line()).isEqualTo(STREAMS);

        awaitAllSessionsEnded();
        int mark = chainsocks.log().mark();
        long failoverStart = System.nanoTime();
        LoadClient.Summary first = client("after-kill-" + cycle).concurrency(1).churn(1, 100);
        Duration failover = Duration.ofNanos(System.nanoTime() - failoverStart);
        assertThat(first.allOk()).as(first.line()).isTrue();
        assertThat(failover).as("the first new connection, which finds the proxy gone, within one connect timeout")
                .isLessThan(CONNECT_TIMEOUT);
        String end = chainsocks.log().awaitLine(LogTail::isEnd, mark, Duration.ofSeconds(10));
        assertThat(end).contains(" via=secondary[").endsWith(" outcome=ok");
        assertThat(chainsocks.log().linesSince(mark)).anyMatch(line -> line.contains("chain primary[")
                && line.contains(" is down: ") && line.contains("Connection refused"));
        assertThat(lastChainOf(client("failed-over-" + cycle).churn(4, 100), 4)).as("while primary is down")
                .isEqualTo("secondary");

        mark = chainsocks.log().mark();
        primary.restart();
        long listening = System.nanoTime();
        chainsocks.log().awaitLine(line -> line.contains("chain primary[") && line.contains(" is up again: probe"),
                mark, BACKOFF.plus(PROBE_TICK).multipliedBy(3));
        Duration back = Duration.ofNanos(System.nanoTime() - listening);
        assertThat(back).as("from the proxy listening again until the probe brought the chain back")
                .isLessThanOrEqualTo(BACKOFF.plus(PROBE_TICK).plus(DETECTION));
        assertThat(lastChainOf(client("back-" + cycle).churn(4, 100), 4)).isEqualTo("primary");
        assertThat(chainsocks.log().linesSince(mark)).as("no user's connection tried primary before the probe did")
                .noneMatch(line -> line.contains("trying the next chain"));

        Figures.record("upstream restart", "cycle %d: %d downloads (%s) and %d echo streams (%s) ended %d ms after"
                + " SIGKILL; first new connection served via secondary in %d ms (connect timeout %d s); primary back"
                + " %.1f s after it listened again (failover-backoff %d s)", cycle, STREAMS, down.reasons(), STREAMS,
                echo.reasons(), allEnded.toMillis(), failover.toMillis(), CONNECT_TIMEOUT.toSeconds(),
                back.toMillis() / 1000.0, BACKOFF.toSeconds());
    }

    /** Until chainsocks has logged the end of every session it started, so the next end line is a new one's. */
    private static void awaitAllSessionsEnded() {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (chainsocks.log().endLines() < chainsocks.log().startLines()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("sessions still open 10 s after their clients saw them end\n"
                        + chainsocks.log().tail());
            }
            LogTail.pause(Duration.ofMillis(20));
        }
    }

    /** Polls the clients' logs until every stream has ended; the time since {@code since}. */
    private static Duration awaitEnded(long since, LoadClient.Running... clients) {
        long deadline = since + Duration.ofSeconds(30).toNanos();
        while (true) {
            int ended = 0;
            for (LoadClient.Running running : clients) {
                ended += running.endedStreams().size();
            }
            if (ended == STREAMS * clients.length) {
                return Duration.ofNanos(System.nanoTime() - since);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(ended + " of " + STREAMS * clients.length + " streams ended within 30 s"
                        + " of the kill");
            }
            LogTail.pause(Duration.ofMillis(10));
        }
    }

    /** The chain of the last {@code count} end lines (nothing else running), which must all be the same and clean. */
    private static String lastChainOf(LoadClient.Summary summary, int count) {
        assertThat(summary.allOk()).as(summary.line()).isTrue();
        awaitAllSessionsEnded();
        List<String> ends = chainsocks.log().lines().stream().filter(LogTail::isEnd).toList();
        List<String> last = ends.subList(ends.size() - count, ends.size());
        assertThat(last).allMatch(line -> line.endsWith(" outcome=ok"));
        List<String> chains = last.stream().map(line -> line.replaceAll(".* via=([^\\[]+)\\[.*", "$1")).distinct()
                .toList();
        assertThat(chains).as("chains of the last %d connections", count).hasSize(1);
        return chains.get(0);
    }
}
