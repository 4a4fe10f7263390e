package dev.chainsocks.e2e;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness' guard against a chainsocks process that would use a default control socket. */
class ChainsocksProcessTest {

    @TempDir
    Path dir;

    @Test
    void runWithoutAControlSocketIsRefused() {
        assertThatThrownBy(() -> ChainsocksProcess.requireOwnControlSocket(
                List.of("run", "--listen", "0.0.0.0:12345", "--via", "socks5://198.19.2.2:1080")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("names no control socket, so it would use the machine's default");
    }

    @Test
    void clientCommandsWithoutAControlSocketAreRefused() {
        for (String command : List.of("status", "connections", "reload", "top")) {
            assertThatThrownBy(() -> ChainsocksProcess.requireOwnControlSocket(List.of("-v", command)))
                    .as(command).isInstanceOf(AssertionError.class);
        }
    }

    @Test
    void aControlSocketInTheMachinesOwnDirectoryIsRefused() {
        assertThatThrownBy(() -> ChainsocksProcess.requireOwnControlSocket(
                List.of("status", "--control-socket", "/run/chainsocks/control.sock")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("the machine's own directory");
    }

    @Test
    void aConfigFileWithoutControlSocketIsRefusedAndOneWithItPasses() throws Exception {
        Path without = Files.writeString(dir.resolve("without.toml"),
                "[service]\nmark = 42\n# control-socket = \"/tmp/x.sock\"\n");
        assertThatThrownBy(() -> ChainsocksProcess.requireOwnControlSocket(
                List.of("run", "--config", without.toString()))).isInstanceOf(AssertionError.class);

        Path with = Files.writeString(dir.resolve("with.toml"),
                "[service]\ncontrol-socket = \"" + dir.resolve("c.sock") + "\"\n");
        assertThatCode(() -> ChainsocksProcess.requireOwnControlSocket(List.of("run", "--config", with.toString())))
                .doesNotThrowAnyException();
    }

    @Test
    void anExplicitSocketAndCommandsWithoutOnePass() {
        assertThatCode(() -> {
            ChainsocksProcess.requireOwnControlSocket(List.of("run", "--listen", "0.0.0.0:1", "--via",
                    "socks5://198.19.2.2:1080", "--control-socket", dir.resolve("c.sock").toString()));
            ChainsocksProcess.requireOwnControlSocket(List.of("status", "--control-socket=" + dir.resolve("c.sock")));
            ChainsocksProcess.requireOwnControlSocket(List.of("rules", "--config", "/nonexistent.toml"));
            ChainsocksProcess.requireOwnControlSocket(List.of("socks-server", "--listen", "127.0.0.1:1080"));
            ChainsocksProcess.requireOwnControlSocket(List.of("--version"));
        }).doesNotThrowAnyException();
    }
}
