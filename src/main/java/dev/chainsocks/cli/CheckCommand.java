package dev.chainsocks.cli;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ConfigRenderer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code chainsocks check}: validates a configuration and prints it with every default filled in. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Validates the configuration and prints the effective settings (passwords as ***).",
                "Exit code 0 when valid, 2 with the file, line and problem when not."})
final class CheckCommand implements Callable<Integer> {

    @Mixin
    ConfigSource source;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ChainsocksConfig config = source.load();
        for (String warning : config.warnings()) {
            spec.commandLine().getErr().println("warning: " + warning);
        }
        spec.commandLine().getOut().print(ConfigRenderer.render(config));
        spec.commandLine().getOut().flush();
        return Main.EXIT_OK;
    }
}
