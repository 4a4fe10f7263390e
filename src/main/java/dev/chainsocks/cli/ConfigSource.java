package dev.chainsocks.cli;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ConfigException;
import dev.chainsocks.config.ConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Where a command gets its configuration: a TOML file, or the quick-start flags. Mixed into run, check, rules. */
final class ConfigSource {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "TOML configuration file (see docs/configuration.md).")
    Path file;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Quick start without a file: listen here (repeatable; [::]:PORT is dual-stack).")
    List<String> listen = new ArrayList<>();

    @Option(names = "--via", paramLabel = "URI",
            description = "Quick start: the next hop of the chain, e.g. socks5://user:pass@host:1080 (repeatable, "
                    + "first hop first; socks4, socks4a, socks5, socks5h, http).")
    List<String> via = new ArrayList<>();

    /** Loads and validates; problems become a {@link Main.UsageException} (exit 2) naming file and line. */
    ChainsocksConfig load() {
        try {
            if (file != null) {
                if (!listen.isEmpty() || !via.isEmpty()) {
                    throw new Main.UsageException("use either --config FILE or --listen/--via, not both");
                }
                return ConfigLoader.load(file);
            }
            if (listen.isEmpty()) {
                throw new Main.UsageException("no configuration: give --config FILE, or --listen HOST:PORT with "
                        + "--via URI for a quick start");
            }
            return ChainsocksConfig.fromFlags(listen, via);
        } catch (ConfigException e) {
            throw new Main.UsageException(e.getMessage(), e);
        }
    }
}
