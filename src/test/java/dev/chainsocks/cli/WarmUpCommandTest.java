package dev.chainsocks.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ConfigLoader;
import dev.chainsocks.config.LookupKind;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code chainsocks warm-up}, the run a class-data archive is recorded from. */
@Timeout(120)
class WarmUpCommandTest {

    @TempDir
    Path directory;

    @Test
    void itsConfigurationIsALoopbackListenerWithItsOwnControlSocket() throws Exception {
        Path socket = directory.resolve("control.sock");
        ChainsocksConfig config = ConfigLoader.parse(WarmUpCommand.configuration(40123, socket),
                directory.resolve("warm-up.toml"));

        assertThat(config.listeners()).singleElement().satisfies(listener -> {
            assertThat(listener.listen()).isEqualTo(new InetSocketAddress("127.0.0.1", 40123));
            assertThat(listener.lookup()).isEqualTo(LookupKind.NETFILTER);
        });
        assertThat(config.service().controlSocket()).isEqualTo(Optional.of(socket));

        Path odd = directory.resolve("a \"quoted\" \\ name").resolve("control.sock");
        assertThat(ConfigLoader.parse(WarmUpCommand.configuration(40123, odd), directory.resolve("warm-up.toml"))
                .service().controlSocket()).as("a temporary directory with quotes and backslashes")
                .isEqualTo(Optional.of(odd));
    }

    /**
     * In a JVM of its own, as the install step runs it: exit 0 after starting the service, one connection the
     * service refuses (it was not redirected) and the stop; nothing left in its temporary directory.
     */
    @Test
    void startsConnectsOnceStopsAndLeavesNothingBehind() throws Exception {
        Path tmp = Files.createDirectory(directory.resolve("tmp"));
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp, "-Djffi.extract.dir=" + tmp,
                "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "-v", "warm-up"));
        Path log = directory.resolve("warm-up.log");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(child.waitFor(90, TimeUnit.SECONDS)).as("warm-up ended").isTrue();
        String output = Files.readString(log, StandardCharsets.UTF_8);

        assertThat(child.exitValue()).as(output).isZero();
        assertThat(output).as("the one connection reached the service and was refused")
                .containsPattern("session 1 refused client=127\\.0\\.0\\.1:\\d+ reason=");
        assertThat(output).as(output).doesNotContain("still open after the grace period");
        assertThat(leftIn(tmp)).as("left in java.io.tmpdir").allMatch(name -> name.startsWith("jffi"));
    }

    private static List<String> leftIn(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(path -> path.getFileName().toString()).toList();
        }
    }
}
