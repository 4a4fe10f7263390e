package dev.chainsocks.cli;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.service.ChainsocksService;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
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
        LinuxSockets.bindInBackground(); // while the configuration is read
        ChainsocksConfig config = source.load();
        root.configureLogging(config.service().logLevel().name());
        config.warnings().forEach(warning -> Logger.warn("configuration: {}", warning));
        raiseFileLimit();
        ServiceSignals signals = new ServiceSignals();
        // The reload handler is in place before READY=1, so a reload right after start is never lost: one that
        // arrives while the service is still starting is done as soon as it has started.
        StartupReload<ChainsocksService> reloads = new StartupReload<>();
        signals.onReload(() -> reloads.requested().ifPresent(this::reload));
        ChainsocksService service = ChainsocksService.start(config, source::load, controlSocket);
        reloads.started(service).ifPresent(this::reload);
        String signal = signals.awaitStop();
        Logger.info("{} received", signal);
        service.shutdown(service.redirector().config().service().shutdownGrace());
        return Main.EXIT_OK;
    }

    private void reload(ChainsocksService running) {
        if (!source.readsFile()) {
            Logger.warn("SIGHUP ignored: the configuration came from flags, there is no file to read again");
        } else {
            running.reload();
        }
    }

    /**
     * Whether a SIGHUP can be acted on now. Before the service has started there is nothing to reload yet: the
     * request is remembered, with one log line, and done once it has started.
     */
    static final class StartupReload<S> {
        private S service;
        private boolean pending;

        /** Signal thread: the service to reload now, or empty when it is still starting. */
        synchronized Optional<S> requested() {
            if (service == null) {
                if (!pending) {
                    Logger.info("SIGHUP while starting: reloading once started");
                }
                pending = true;
            }
            return Optional.ofNullable(service);
        }

        /** The service has started: returns it when a reload was asked for meanwhile. */
        synchronized Optional<S> started(S started) {
            service = started;
            return pending ? Optional.of(started) : Optional.empty();
        }
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
