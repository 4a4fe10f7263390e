package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Relay memory is a function of the configuration: under a direct memory limit far below what 300 stalled
 * downloads with a 128 KiB buffer each would take (37.5 MiB against 4 MiB), one event loop keeps relaying fresh
 * connections, loses no byte of the stalled ones, and never throws (before the budget it died of
 * {@code OutOfMemoryError: Cannot reserve ... direct buffer memory}).
 */
@Timeout(120)
class RelayMemoryBudgetTest {

    @ParameterizedTest
    @EnumSource(RelayMode.class)
    void stalledReadersBeyondTheDirectMemoryLimitDoNotStopTheLoop(RelayMode mode) throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxDirectMemorySize=4m", "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), StalledReaders.class.getName(), mode.name(), "300", "20");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(child.waitFor(100, TimeUnit.SECONDS)).as("child ended").isTrue();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.exitValue()).as(output).isZero();
        assertThat(output).as(output).contains("ok mode=" + mode).doesNotContain("relay ended badly")
                .doesNotContain("OutOfMemoryError");
    }
}
