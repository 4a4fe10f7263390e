package dev.chainsocks.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.config.ChainsocksConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which file {@code run}, {@code check} and {@code rules} read: {@code --config}, the default, or none. */
class ConfigSourceTest {

    @TempDir
    Path dir;

    private static String config(int port) {
        return "[[listener]]\nlisten = \"127.0.0.1:" + port + "\"\nchains = [\"main\"]\n\n"
                + "[chain.main]\nhops = [\"socks5://198.18.1.2:1080\"]\n";
    }

    @Test
    void withoutConfigOrListenTheDefaultFileIsRead() throws IOException {
        Path defaultFile = Files.writeString(dir.resolve("chainsocks.toml"), config(12001));
        ConfigSource source = new ConfigSource();

        ChainsocksConfig loaded = source.load(defaultFile);

        assertThat(loaded.listeners()).singleElement()
                .satisfies(listener -> assertThat(listener.listen().getPort()).isEqualTo(12001));
        assertThat(source.readsFile()).isTrue();
    }

    @Test
    void configGivenWinsOverTheDefault() throws IOException {
        Path defaultFile = Files.writeString(dir.resolve("default.toml"), config(12001));
        ConfigSource source = new ConfigSource();
        source.file = Files.writeString(dir.resolve("given.toml"), config(12002));

        assertThat(source.load(defaultFile).listeners().get(0).listen().getPort()).isEqualTo(12002);
    }

    @Test
    void quickStartFlagsDoNotReadTheDefault() throws IOException {
        Path defaultFile = Files.writeString(dir.resolve("chainsocks.toml"), "this is not toml");
        ConfigSource source = new ConfigSource();
        source.listen = List.of("127.0.0.1:12003");
        source.via = List.of("socks5://198.18.1.2:1080");

        assertThat(source.load(defaultFile).listeners().get(0).listen().getPort()).isEqualTo(12003);
        assertThat(source.readsFile()).isFalse();
    }

    @Test
    void aMissingDefaultNamesItAndTheAlternatives() {
        Path missing = dir.resolve("absent.toml");

        assertThatThrownBy(() -> new ConfigSource().load(missing))
                .isInstanceOf(Main.UsageException.class)
                .hasMessage("no configuration: " + missing + " does not exist; give --config FILE, or --listen "
                        + "HOST:PORT with --via URI for a quick start");
    }

    @Test
    void viaWithoutListenIsAUsageError() {
        ConfigSource source = new ConfigSource();
        source.via = List.of("socks5://198.18.1.2:1080");

        assertThatThrownBy(() -> source.load(dir.resolve("absent.toml")))
                .isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("--via needs --listen");
    }

    @Test
    void versionNamesTheJavaRuntimeAndItsVendor() {
        String[] version = new Main.Version().getVersion();

        assertThat(version[0]).startsWith("chainsocks ");
        assertThat(version[1]).startsWith("Java " + Runtime.version())
                .contains(System.getProperty("java.vendor"));
    }
}
