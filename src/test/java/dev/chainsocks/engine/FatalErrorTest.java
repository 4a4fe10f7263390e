package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** An error on an event loop ends the process with one clear line, instead of leaving a dead loop behind. */
@Timeout(60)
class FatalErrorTest {

    @Test
    void outOfDirectMemoryOnALoopEndsTheProcessWithExitStatus70AndSaysWhy() throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxDirectMemorySize=2m", "-cp", System.getProperty("java.class.path"),
                LoopOutOfMemory.class.getName());
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(child.waitFor(45, TimeUnit.SECONDS)).as("child ended").isTrue();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.exitValue()).as(output).isEqualTo(FatalError.EXIT_STATUS);
        assertThat(output).contains("event loop child-loop-0 stopped by an unexpected error")
                .contains("direct buffer memory").contains("ending the process (exit status 70)")
                .doesNotContain("still running");
    }
}
