package dev.chainsocks.cli;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.rules.FirewallBackend;
import dev.chainsocks.rules.RedirectMode;
import dev.chainsocks.rules.Ruleset;
import dev.chainsocks.rules.RulesetGenerator;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code chainsocks rules}: the firewall ruleset for a configuration, as a shell script. */
@Command(name = "rules", mixinStandardHelpOptions = true,
        description = {"Prints the shell script that installs (or with --down removes) the REDIRECT rules for the "
                + "configured listeners: a dedicated CHAINSOCKS chain that skips exempt networks, every first-hop "
                + "proxy and our own marked or owned traffic, then redirects the rest. With [dns], UDP and TCP port 53 "
                + "go to its listen address (DNAT), whatever server a client asks, unless firewall.redirect-dns = "
                + "false. tproxy and UDP listeners get "
                + "TPROXY rules (mangle, ip rule, local route) instead; in local mode this host's own packets are "
                + "marked in OUTPUT so that they loop back through PREROUTING. Either backend's script also "
                + "removes the other backend's chainsocks rules (and only those), so switching --backend leaves one "
                + "set.",
                "Apply with: chainsocks rules --config FILE | sh -e   (or native-scripts/firewall up)"})
final class RulesCommand implements Callable<Integer> {

    @Mixin
    ConfigSource source;

    @Option(names = "--backend", paramLabel = "iptables|nft", defaultValue = "iptables",
            converter = BackendConverter.class, description = "Firewall tool. Default: ${DEFAULT-VALUE}.")
    FirewallBackend backend;

    @Option(names = "--mode", paramLabel = "local|gateway", defaultValue = "gateway", converter = ModeConverter.class,
            description = "local: this host's own programs (OUTPUT); gateway: a LAN routed through this host "
                    + "(PREROUTING). Default: ${DEFAULT-VALUE}.")
    RedirectMode mode;

    @Option(names = "--lan-iface", paramLabel = "IF", description = "Gateway mode: redirect only traffic arriving "
            + "on this interface.")
    String lanInterface;

    @Option(names = "--owner-uid", paramLabel = "UID", description = "Local mode: exempt this user's traffic (the "
            + "service user), instead of or besides service.mark.")
    Integer ownerUid;

    @Option(names = "--down", description = "Print the script that removes the rules instead.")
    boolean down;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ChainsocksConfig config = source.load();
        Ruleset ruleset = RulesetGenerator.generate(config, backend, mode, Optional.ofNullable(lanInterface),
                ownerUid == null ? OptionalInt.empty() : OptionalInt.of(ownerUid));
        if (!down) {
            for (String warning : ruleset.warnings()) {
                spec.commandLine().getErr().println("warning: " + warning);
            }
        }
        spec.commandLine().getOut().print(down ? ruleset.down() : ruleset.up());
        spec.commandLine().getOut().flush();
        return Main.EXIT_OK;
    }

    static final class BackendConverter implements picocli.CommandLine.ITypeConverter<FirewallBackend> {
        @Override
        public FirewallBackend convert(String value) {
            return switch (value) {
                case "iptables" -> FirewallBackend.IPTABLES;
                case "nft", "nftables" -> FirewallBackend.NFT;
                default -> throw new picocli.CommandLine.TypeConversionException(
                        "unknown backend \"" + value + "\" (use iptables or nft)");
            };
        }
    }

    static final class ModeConverter implements picocli.CommandLine.ITypeConverter<RedirectMode> {
        @Override
        public RedirectMode convert(String value) {
            return switch (value) {
                case "local" -> RedirectMode.LOCAL;
                case "gateway" -> RedirectMode.GATEWAY;
                default -> throw new picocli.CommandLine.TypeConversionException(
                        "unknown mode \"" + value + "\" (use local or gateway)");
            };
        }
    }
}
