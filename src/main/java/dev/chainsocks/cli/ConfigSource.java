package dev.chainsocks.cli;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ConfigException;
import dev.chainsocks.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Where a command gets its configuration: a TOML file, or the quick-start flags. Mixed into run, check, rules.
 * With neither, the file is {@link #DEFAULT_FILE}, where the package and install.sh put it.
 */
final class ConfigSource {

    /** The configuration file when neither {@code --config} nor {@code --listen} is given. */
    static final Path DEFAULT_FILE = Path.of("/etc/chainsocks/chainsocks.toml");

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "TOML configuration file (see chainsocks.toml(5)). Default: /etc/chainsocks/chainsocks.toml "
                    + "unless --listen is given.")
    Path file;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Quick start without a file: listen here (repeatable; [::]:PORT is dual-stack).")
    List<String> listen = new ArrayList<>();

    @Option(names = "--via", paramLabel = "URI",
            description = "Quick start: the next hop of the chain, e.g. socks5://user:pass@host:1080 (repeatable, "
                    + "first hop first; socks4, socks4a, socks5, socks5h, http).")
    List<String> via = new ArrayList<>();

    /** True when the configuration comes from a file (given or the default), which a reload can read again. */
    boolean readsFile() {
        return file != null || listen.isEmpty();
    }

    /** Loads and validates; problems become a {@link Main.UsageException} (exit 2) naming file and line. */
    ChainsocksConfig load() {
        return load(DEFAULT_FILE);
    }

    /** As {@link #load()}, with {@code defaultFile} read when neither {@code --config} nor {@code --listen} is given. */
    ChainsocksConfig load(Path defaultFile) {
        try {
            if (file != null) {
                if (!listen.isEmpty() || !via.isEmpty()) {
                    throw new Main.UsageException("use either --config FILE or --listen/--via, not both");
                }
                return ConfigLoader.load(file);
            }
            if (listen.isEmpty()) {
                if (!via.isEmpty()) {
                    throw new Main.UsageException("--via needs --listen HOST:PORT (or use --config FILE)");
                }
                if (!Files.exists(defaultFile)) {
                    throw new Main.UsageException("no configuration: " + defaultFile + " does not exist; give "
                            + "--config FILE, or --listen HOST:PORT with --via URI for a quick start");
                }
                return ConfigLoader.load(defaultFile);
            }
            return ChainsocksConfig.fromFlags(listen, via);
        } catch (ConfigException e) {
            throw new Main.UsageException(e.getMessage(), e);
        }
    }
}
