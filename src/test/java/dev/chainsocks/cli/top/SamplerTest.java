package dev.chainsocks.cli.top;

import static dev.chainsocks.cli.top.Reports.chain;
import static dev.chainsocks.cli.top.Reports.connection;
import static dev.chainsocks.cli.top.Reports.report;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.chain.ChainState;
import java.time.Duration;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Rates from successive samples, and recent failures from a minute of them. */
class SamplerTest {

    @Test
    void theFirstSampleHasNoRatesTheSecondMeasuresAgainstIt() {
        Sampler sampler = new Sampler();
        Frame first = sampler.next(report(10_000, 0, 0, List.of(connection(1, "198.19.2.3:80", 100, 1_000, 5_000)),
                List.of()));
        assertThat(first.connections().get(0).upRate()).isEmpty();
        assertThat(first.connections().get(0).downRate()).isEmpty();
        assertThat(first.totalUpRate()).isEmpty();

        // 2 s later (by the service's clock): 400 B more up, 3 MiB more down.
        Frame second = sampler.next(report(12_000, 0, 0,
                List.of(connection(1, "198.19.2.3:80", 500, 1_000 + (3 << 20), 7_000)), List.of()));
        ConnectionRow row = second.connections().get(0);
        assertThat(row.upRate()).isEqualTo(OptionalDouble.of(200.0));
        assertThat(row.downRate()).isEqualTo(OptionalDouble.of((3 << 20) / 2.0));
        assertThat(second.totalUpRate()).isEqualTo(OptionalDouble.of(200.0));
        assertThat(second.totalDownRate()).isEqualTo(OptionalDouble.of((3 << 20) / 2.0));
    }

    @Test
    void aSessionAcceptedSinceThePreviousSampleIsMeasuredOverItsAge() {
        Sampler sampler = new Sampler();
        sampler.next(report(10_000, 0, 0, List.of(), List.of()));
        Frame frame = sampler.next(report(11_000, 0, 0, List.of(connection(7, "198.19.2.3:80", 50, 1_000, 250)),
                List.of()));
        assertThat(frame.connections().get(0).upRate()).isEqualTo(OptionalDouble.of(200.0));
        assertThat(frame.connections().get(0).downRate()).isEqualTo(OptionalDouble.of(4_000.0));
    }

    @Test
    void aSessionThatEndsMovesItsBytesIntoTheTotalsWithoutAJumpInTheTotalRate() {
        Sampler sampler = new Sampler();
        sampler.next(report(10_000, 1_000, 2_000, List.of(connection(1, "198.19.2.3:80", 300, 5_000, 9_000)),
                List.of()));
        // The session sent 100 and received 1000 more, then ended: its bytes are now in the finished totals.
        Frame frame = sampler.next(report(11_000, 1_400, 8_000, List.of(), List.of()));
        assertThat(frame.connections()).isEmpty();
        assertThat(frame.totalUpRate()).isEqualTo(OptionalDouble.of(100.0));
        assertThat(frame.totalDownRate()).isEqualTo(OptionalDouble.of(1_000.0));
        assertThat(frame.totalBytesUp()).isEqualTo(1_400);
    }

    @Test
    void aRestartedServiceStartsTheMeasurementAgain() {
        Sampler sampler = new Sampler();
        sampler.next(report(50_000, 0, 0, List.of(connection(1, "198.19.2.3:80", 0, 9_000_000, 40_000)),
                List.of(chain("main", ChainState.DOWN, 5, "refused"))));
        Frame frame = sampler.next(report(1_000, 0, 0, List.of(connection(1, "198.19.2.3:80", 0, 10, 500)),
                List.of(chain("main", ChainState.DOWN, 1, "refused"))));
        assertThat(frame.connections().get(0).downRate()).isEmpty();
        assertThat(frame.totalDownRate()).isEmpty();
        assertThat(frame.chains().get(0).recentFailures()).isEmpty();
    }

    @Test
    void recentFailuresCountWhatAChainAddedWithinTheLastMinute() {
        Sampler sampler = new Sampler();
        Frame first = sampler.next(report(100_000, 0, 0, List.of(), List.of(chain("main", ChainState.UP, 3, "x"),
                chain("spare", ChainState.UNTRIED, 0, null))));
        assertThat(first.chains().get(0).recentFailures()).isEmpty();
        assertThat(first.recentWindow()).isEqualTo(Duration.ZERO);

        // One sample a second: main fails once at 110 s and twice at 140 s.
        Frame frame = first;
        for (long t = 101_000; t <= 160_000; t += 1_000) {
            long failures = 3 + (t >= 110_000 ? 1 : 0) + (t >= 140_000 ? 2 : 0);
            frame = sampler.next(report(t, 0, 0, List.of(),
                    List.of(chain("main", ChainState.DOWN, failures, "x"), chain("spare", ChainState.UNTRIED, 0, null))));
            if (t == 105_000) {
                assertThat(frame.recentWindow()).isEqualTo(Duration.ofSeconds(5));
                assertThat(frame.chains().get(0).recentFailures()).isEqualTo(OptionalLong.of(0));
            }
        }
        assertThat(frame.recentWindow()).isEqualTo(Duration.ofSeconds(60));
        assertThat(frame.chains().get(0).recentFailures()).isEqualTo(OptionalLong.of(3));
        assertThat(frame.chains().get(1).recentFailures()).isEqualTo(OptionalLong.of(0));

        // 60 s after the first failure, it has left the window; the two at 140 s have not.
        for (long t = 161_000; t <= 171_000; t += 1_000) {
            frame = sampler.next(report(t, 0, 0, List.of(), List.of(chain("main", ChainState.DOWN, 6, "x"))));
        }
        assertThat(frame.recentWindow()).isEqualTo(Duration.ofSeconds(60));
        assertThat(frame.chains()).hasSize(1);
        assertThat(frame.chains().get(0).recentFailures()).isEqualTo(OptionalLong.of(2));
    }

    @Test
    void aChainWhoseCounterWentBackAfterAReloadStartsAFreshHistory() {
        Sampler sampler = new Sampler();
        sampler.next(report(1_000, 0, 0, List.of(), List.of(chain("main", ChainState.DOWN, 9, "x"))));
        Frame reloaded = sampler.next(report(2_000, 0, 0, List.of(), List.of(chain("main", ChainState.UNTRIED, 0,
                null))));
        assertThat(reloaded.chains().get(0).recentFailures()).isEmpty();
        Frame later = sampler.next(report(3_000, 0, 0, List.of(), List.of(chain("main", ChainState.DOWN, 1, "x"))));
        assertThat(later.chains().get(0).recentFailures()).isEqualTo(OptionalLong.of(1));
    }
}
