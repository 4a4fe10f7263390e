package dev.chainsocks.cli;

import dev.chainsocks.config.ConfigException;
import dev.chainsocks.config.RedsocksConf;
import dev.chainsocks.config.RedsocksImport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code chainsocks import-redsocks FILE}: an equivalent chainsocks configuration for a redsocks.conf. */
@Command(name = "import-redsocks", mixinStandardHelpOptions = true,
        description = {"Reads a redsocks configuration file and prints an equivalent chainsocks configuration: a "
                + "[[listener]] and a one-hop chain per redsocks { } section, a UDP [[listener]] (lookup = fixed "
                + "with redudp's dest_ip/dest_port) and a one-hop chain per redudp { } section, [service]/[timeouts] "
                + "keys from base { }, and a '# redsocks:' comment for every section or key with no equivalent "
                + "(dnstc, daemon, chroot, ...).",
                "Save it and validate it: chainsocks import-redsocks /etc/redsocks.conf > chainsocks.toml && "
                        + "chainsocks check --config chainsocks.toml"})
final class ImportRedsocksCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE", description = "The redsocks.conf to read.")
    Path file;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new Main.UsageException("cannot read " + file + ": " + e.getMessage(), e);
        }
        try {
            spec.commandLine().getOut().print(RedsocksImport.toToml(RedsocksConf.parse(text, file)));
        } catch (ConfigException e) {
            throw new Main.UsageException(e.getMessage(), e);
        }
        spec.commandLine().getOut().flush();
        return Main.EXIT_OK;
    }
}
