package dev.chainsocks.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class AccessLogTest {

    @Test
    void elapsedReadsInSecondsWithThreeDecimalsRoundedHalfUp() {
        assertThat(AccessLog.seconds(Duration.ZERO)).isEqualTo("0.000s");
        assertThat(AccessLog.seconds(Duration.ofNanos(499_999))).isEqualTo("0.000s");
        assertThat(AccessLog.seconds(Duration.ofNanos(500_000))).isEqualTo("0.001s");
        assertThat(AccessLog.seconds(Duration.ofMillis(42))).isEqualTo("0.042s");
        assertThat(AccessLog.seconds(Duration.ofMillis(120))).isEqualTo("0.120s");
        assertThat(AccessLog.seconds(Duration.ofMillis(9_999_999))).isEqualTo("9999.999s");
        assertThat(AccessLog.seconds(Duration.ofNanos(1_999_600_000L))).isEqualTo("2.000s");
        assertThat(AccessLog.seconds(Duration.ofMillis(-5))).isEqualTo("0.000s");
    }
}
