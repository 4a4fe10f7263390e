package dev.chainsocks.cli;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.service.ChainsocksService;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.tinylog.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code chainsocks run}: the transparent redirector, in the foreground until SIGTERM or SIGINT. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the transparent redirector: takes connections that iptables/nftables REDIRECT to its "
                + "port, reads their original destination, and opens it through the configured proxy chain.",
                "SIGHUP (or chainsocks reload) re-reads the configuration file; SIGTERM drains and exits 0.",
                "Examples:",
                "  chainsocks run --config /etc/chainsocks/chainsocks.toml",
                "  chainsocks run --listen 0.0.0.0:12345 --via socks5://127.0.0.1:1080"})
final class RunCommand implements Callable<Integer> {

    @ParentCommand
    Main root;

    @Mixin
    ConfigSource source;

    @Option(names = "--control-socket", paramLabel = "PATH",
            description = "Unix socket for status/connections/reload. Default: service.control-socket, else "
                    + "$RUNTIME_DIRECTORY/control.sock (systemd), /run/chainsocks/control.sock for root, "
                    + "$XDG_RUNTIME_DIR/chainsocks/control.sock for other users, else none.")
    Path controlSocket;

    @Override
    public Integer call() throws IOException, InterruptedException {
        ChainsocksConfig config = source.load();
        root.configureLogging(config.service().logLevel().name());
        config.warnings().forEach(warning -> Logger.warn("configuration: {}", warning));
        raiseFileLimit();
        ServiceSignals signals = new ServiceSignals();
        // The reload handler is in place before READY=1, so a reload right after start is never lost.
        AtomicReference<ChainsocksService> started = new AtomicReference<>();
        signals.onReload(() -> {
            ChainsocksService running = started.get();
            if (running == null) {
                Logger.warn("SIGHUP ignored: chainsocks is still starting; send it again once it is ready");
            } else if (!source.readsFile()) {
                Logger.warn("SIGHUP ignored: the configuration came from flags, there is no file to read again");
            } else {
                running.reload();
            }
        });
        ChainsocksService service = ChainsocksService.start(config, source::load, controlSocket);
        started.set(service);
        String signal = signals.awaitStop();
        Logger.info("{} received", signal);
        service.shutdown(service.redirector().config().service().shutdownGrace());
        return Main.EXIT_OK;
    }

    private static void raiseFileLimit() {
        if (!LinuxSockets.available()) {
            return;
        }
        try {
            Logger.info("open file limit: {}", LinuxSockets.get().raiseNoFileLimit());
        } catch (IOException e) {
            Logger.warn("cannot raise the open file limit: {}", e.getMessage());
        }
    }
}
