package dev.chainsocks.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MonotonicClockTest {

    @Test
    void monotonicClockCountsFromBootAndNeverGoesBack() throws IOException {
        long first = MonotonicClock.microseconds();
        // /proc/uptime is CLOCK_BOOTTIME, which is CLOCK_MONOTONIC plus time spent suspended.
        double uptimeSeconds = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
        long second = MonotonicClock.microseconds();

        assertThat(first).isPositive();
        assertThat(second).isGreaterThanOrEqualTo(first);
        assertThat(first).isLessThanOrEqualTo((long) ((uptimeSeconds + 1) * 1_000_000));
    }
}
