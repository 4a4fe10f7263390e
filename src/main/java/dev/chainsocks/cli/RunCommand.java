package dev.chainsocks.cli;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.redirect.Redirector;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.tinylog.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** {@code chainsocks run}: the transparent redirector, in the foreground until SIGTERM or SIGINT. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the transparent redirector: takes connections that iptables/nftables REDIRECT to its "
                + "port, reads their original destination, and opens it through the configured proxy chain.",
                "Examples:",
                "  chainsocks run --config /etc/chainsocks/chainsocks.toml",
                "  chainsocks run --listen 0.0.0.0:12345 --via socks5://127.0.0.1:1080"})
final class RunCommand implements Callable<Integer> {

    @ParentCommand
    Main root;

    @Mixin
    ConfigSource source;

    @Override
    public Integer call() throws IOException, InterruptedException {
        ChainsocksConfig config = source.load();
        root.configureLogging(config.service().logLevel().name());
        config.warnings().forEach(warning -> Logger.warn("configuration: {}", warning));
        raiseFileLimit();
        ServiceSignals signals = new ServiceSignals();
        Redirector redirector = Redirector.start(config);
        try {
            String signal = signals.awaitStop();
            Duration grace = config.service().shutdownGrace();
            Logger.info("{}: no longer accepting; letting {} session(s) finish for up to {}", signal,
                    redirector.activeSessions(), grace);
            redirector.stopAccepting();
            int left = redirector.drain(grace);
            if (left > 0) {
                Logger.warn("closing {} session(s) still open after the grace period", left);
            }
        } finally {
            redirector.close();
        }
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
