package dev.chainsocks.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class ChainSelectorTest {

    private static final Instant START = Instant.parse("2025-01-01T10:00:00Z");
    private static final Duration BACKOFF = Duration.ofSeconds(30);

    private final ProxyChain a = chain("a");
    private final ProxyChain b = chain("b");
    private final ProxyChain c = chain("c");
    private final AtomicLong nanos = new AtomicLong(1_000);

    private static ProxyChain chain(String name) {
        return new ProxyChain(name, List.of(ProxyHop.parse("socks5://" + name + ".example:1080")));
    }

    /** A wall clock that moves with the fake monotonic one. */
    private Clock clock() {
        return new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return START.plusNanos(nanos.get());
            }
        };
    }

    private ChainSelector selector(ChainPolicy policy, List<ProxyChain> chains, RandomGenerator random) {
        return new ChainSelector(policy, chains, BACKOFF, nanos::get, clock(), random);
    }

    private ChainSelector selector(ChainPolicy policy, ProxyChain... chains) {
        return selector(policy, List.of(chains), () -> 0L);
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void strictAlwaysTheOneChainEvenAfterFailures() {
        ChainSelector s = selector(ChainPolicy.STRICT, a);
        assertThat(s.candidates()).containsExactly(a);
        s.reportFailure(a, "refused");
        assertThat(s.candidates()).containsExactly(a);
    }

    @Test
    void strictRefusesSeveralChains() {
        assertThatThrownBy(() -> selector(ChainPolicy.STRICT, a, b))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one chain");
    }

    @Test
    void failoverPutsAFailedChainLastUntilAProbeReachesItNotAUsersConnection() {
        ChainSelector s = selector(ChainPolicy.FAILOVER, a, b, c);
        assertThat(s.candidates()).containsExactly(a, b, c);

        s.reportFailure(a, "connection refused");
        assertThat(s.candidates()).containsExactly(b, c, a);
        assertThat(s.takeDueProbes()).as("in backoff: no probe yet").isEmpty();

        advance(BACKOFF.minusMillis(1));
        assertThat(s.takeDueProbes()).isEmpty();
        advance(Duration.ofMillis(1));
        assertThat(s.candidates()).as("after the backoff it still waits for its probe").containsExactly(b, c, a);
        assertThat(s.takeDueProbes()).containsExactly(a);
        assertThat(s.takeDueProbes()).as("taken once while its probe runs").isEmpty();

        s.reportProbe(a, ChainSelector.ProbeOutcome.FAILED, "probe: connect timed out");
        assertThat(s.candidates()).containsExactly(b, c, a);
        assertThat(s.health().get(0).lastError()).contains("probe: connect timed out");
        assertThat(s.health().get(0).failures()).as("a probe is not a user's dial").isEqualTo(1);
        assertThat(s.takeDueProbes()).as("the next probe waits a backoff again").isEmpty();

        advance(BACKOFF);
        assertThat(s.takeDueProbes()).containsExactly(a);
        s.reportProbe(a, ChainSelector.ProbeOutcome.INCONCLUSIVE, "no socket");
        assertThat(s.health().get(0).state()).isEqualTo(ChainState.DOWN);
        assertThat(s.health().get(0).lastError()).contains("probe: connect timed out");

        advance(BACKOFF);
        assertThat(s.takeDueProbes()).containsExactly(a);
        s.reportProbe(a, ChainSelector.ProbeOutcome.REACHED, "a probe reached hop 1");
        assertThat(s.health().get(0).state()).isEqualTo(ChainState.UP);
        assertThat(s.health().get(0).successes()).isZero();
        assertThat(s.candidates()).containsExactly(a, b, c);
    }

    @Test
    void aUsersDialThatWorksBringsADownChainBackAndItsProbeChangesNothing() {
        ChainSelector s = selector(ChainPolicy.FAILOVER, a, b);
        s.reportFailure(a, "x");
        advance(BACKOFF);
        assertThat(s.takeDueProbes()).containsExactly(a);
        s.reportSuccess(a, Duration.ofMillis(40));
        s.reportProbe(a, ChainSelector.ProbeOutcome.FAILED, "late probe");
        assertThat(s.health().get(0).state()).isEqualTo(ChainState.UP);
        assertThat(s.candidates()).containsExactly(a, b);
    }

    @Test
    void aChainWhoseLastHopRefusedTheDestinationWorksAndIsUpWithoutCountingADial() {
        ChainSelector s = selector(ChainPolicy.FAILOVER, a, b);
        s.reportWorking(a);
        assertThat(s.health().get(0).state()).isEqualTo(ChainState.UP);
        s.reportFailure(b, "x");
        s.reportWorking(b);
        assertThat(s.health().get(1).state()).isEqualTo(ChainState.UP);
        assertThat(s.health().get(1).failures()).isEqualTo(1);
        assertThat(s.health().get(1).successes()).isZero();
        assertThat(s.candidates()).containsExactly(a, b);
    }

    @Test
    void aDirectChainHasNothingToProbeAndIsRetriedAfterItsBackoff() {
        ProxyChain direct = new ProxyChain("direct", List.of());
        ChainSelector s = selector(ChainPolicy.FAILOVER, direct, b);
        s.reportFailure(direct, "connection refused");
        assertThat(s.candidates()).containsExactly(b, direct);
        advance(BACKOFF);
        assertThat(s.takeDueProbes()).isEmpty();
        assertThat(s.candidates()).containsExactly(direct, b);
    }

    @Test
    void failoverNeverRefusesWhenEveryChainFailed() {
        ChainSelector s = selector(ChainPolicy.FAILOVER, a, b, c);
        s.reportFailure(b, "x");
        s.reportFailure(a, "x");
        s.reportFailure(c, "x");
        assertThat(s.candidates()).containsExactly(a, b, c);
    }

    @Test
    void aFailureDuringBackoffExtendsIt() {
        ChainSelector s = selector(ChainPolicy.FAILOVER, a, b);
        s.reportFailure(a, "first");
        advance(Duration.ofSeconds(20));
        s.reportFailure(a, "second");
        advance(Duration.ofSeconds(20));
        assertThat(s.candidates()).containsExactly(b, a);
        ChainHealth health = s.health().get(0);
        assertThat(health.since()).isEqualTo(START.plusNanos(1_000));
        assertThat(health.lastError()).contains("second");
        assertThat(health.failures()).isEqualTo(2);
    }

    @Test
    void roundRobinRotatesTheStartAndKeepsTheRestAsFallbacks() {
        ChainSelector s = selector(ChainPolicy.ROUND_ROBIN, a, b, c);
        assertThat(s.candidates()).containsExactly(a, b, c);
        assertThat(s.candidates()).containsExactly(b, c, a);
        assertThat(s.candidates()).containsExactly(c, a, b);
        assertThat(s.candidates()).containsExactly(a, b, c);
    }

    @Test
    void roundRobinPutsChainsInBackoffLast() {
        ChainSelector s = selector(ChainPolicy.ROUND_ROBIN, a, b, c);
        s.reportFailure(b, "down");
        assertThat(s.candidates()).containsExactly(a, c, b);
        assertThat(s.candidates()).containsExactly(c, a, b);
        assertThat(s.candidates()).containsExactly(c, a, b);
    }

    @Test
    void randomStartsWhereTheGeneratorSays() {
        List<Integer> picks = new ArrayList<>(List.of(2, 0, 1));
        RandomGenerator scripted = new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new AssertionError("only nextInt(bound) is used");
            }

            @Override
            public int nextInt(int bound) {
                assertThat(bound).isEqualTo(3);
                return picks.remove(0);
            }
        };
        ChainSelector s = selector(ChainPolicy.RANDOM, List.of(a, b, c), scripted);
        assertThat(s.candidates()).containsExactly(c, a, b);
        assertThat(s.candidates()).containsExactly(a, b, c);
        assertThat(s.candidates()).containsExactly(b, c, a);
    }

    @Test
    void randomWithTheDefaultGeneratorReturnsEveryChainOnce() {
        ChainSelector s = ChainSelector.create(ChainPolicy.RANDOM, List.of(a, b, c), BACKOFF);
        for (int i = 0; i < 50; i++) {
            assertThat(s.candidates()).containsExactlyInAnyOrder(a, b, c);
        }
    }

    @Test
    void healthSnapshotsCountAndExplain() {
        ChainSelector s = selector(ChainPolicy.FAILOVER, a, b);
        s.reportSuccess(a, Duration.ofMillis(35));
        s.reportSuccess(a, Duration.ofMillis(45));
        advance(Duration.ofSeconds(5));
        s.reportFailure(b, "hop 1 socks5://b.example:1080: connection refused");

        List<ChainHealth> health = s.health();
        ChainHealth ha = health.get(0);
        assertThat(ha.up()).isTrue();
        assertThat(ha.successes()).isEqualTo(2);
        assertThat(ha.lastHandshakeLatency()).contains(Duration.ofMillis(45));
        assertThat(ha.backoffUntil()).isEmpty();

        ChainHealth hb = health.get(1);
        assertThat(hb.up()).isFalse();
        assertThat(hb.since()).isEqualTo(START.plusNanos(1_000).plusSeconds(5));
        assertThat(hb.backoffUntil()).contains(hb.since().plus(BACKOFF));
        assertThat(hb.toString()).contains("b[socks5://b.example:1080] down since", "0 ok, 1 failed",
                "last error: hop 1 socks5://b.example:1080: connection refused", "skipped until");
    }

    /** Before any dial a chain is untried: not up, not down, not in backoff; the first report decides. */
    @Test
    void aChainIsUntriedUntilItsFirstDial() {
        ChainSelector s = selector(ChainPolicy.FAILOVER, a, b, c);
        assertThat(s.health()).extracting(ChainHealth::state)
                .containsExactly(ChainState.UNTRIED, ChainState.UNTRIED, ChainState.UNTRIED);
        assertThat(s.health()).allSatisfy(h -> {
            assertThat(h.up()).isFalse();
            assertThat(h.since()).isEqualTo(START.plusNanos(1_000));
            assertThat(h.backoffUntil()).isEmpty();
            assertThat(h.toString()).contains(" untried since ").doesNotContain("last error");
        });
        assertThat(s.candidates()).containsExactly(a, b, c);

        advance(Duration.ofSeconds(3));
        s.reportSuccess(a, Duration.ofMillis(20));
        s.reportFailure(b, "connection refused");
        List<ChainHealth> health = s.health();
        assertThat(health).extracting(ChainHealth::state)
                .containsExactly(ChainState.UP, ChainState.DOWN, ChainState.UNTRIED);
        Instant firstDial = START.plusNanos(1_000).plusSeconds(3);
        assertThat(health.get(0).since()).as("up since the first success, not since start").isEqualTo(firstDial);
        assertThat(health.get(1).since()).isEqualTo(firstDial);
        assertThat(health.get(2).since()).isEqualTo(START.plusNanos(1_000));
        assertThat(s.candidates()).as("an untried chain keeps its place; only a down one moves back")
                .containsExactly(a, c, b);
    }

    @Test
    void rejectsUnknownChains() {
        ChainSelector s = selector(ChainPolicy.FAILOVER, a, b);
        assertThatThrownBy(() -> s.reportFailure(c, "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void concurrentReportsAreAllCounted() throws Exception {
        ChainSelector s = ChainSelector.create(ChainPolicy.ROUND_ROBIN, List.of(a, b), BACKOFF);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < 1000; i++) {
                        ProxyChain first = s.candidates().get(0);
                        if (i % 2 == 0) {
                            s.reportSuccess(first, Duration.ofMillis(1));
                        } else {
                            s.reportFailure(first, "x");
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).isEmpty();
        long total = s.health().stream().mapToLong(h -> h.successes() + h.failures()).sum();
        assertThat(total).isEqualTo(4000);
    }
}
