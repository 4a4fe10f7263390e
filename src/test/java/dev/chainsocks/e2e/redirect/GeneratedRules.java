package dev.chainsocks.e2e.redirect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Netns;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The firewall scripts {@code chainsocks rules} prints, applied in a namespace exactly as printed (no rule of the
 * tests' own), and the check that the printed removal leaves nothing of them behind.
 */
final class GeneratedRules {

    private GeneratedRules() {
    }

    /** The script {@code chainsocks rules --config CONFIG --backend BACKEND OPTIONS...} prints; no warnings. */
    static String print(Netns netns, Path config, String backend, String... options) {
        List<String> args = new ArrayList<>(List.of("rules", "--config", config.toString(), "--backend", backend));
        args.addAll(List.of(options));
        Command.Result result = ChainsocksProcess.runToCompletion(netns, Duration.ofSeconds(60),
                args.toArray(String[]::new)).requireSuccess();
        assertThat(result.stderr()).as("rules warnings").doesNotContain("warning");
        return result.stdout();
    }

    /** Runs a printed script with {@code sh -e}, as the firewall unit does. */
    static void apply(Netns netns, String script) {
        Path file = netns.workspace().writeFile(netns.workspace().newDirectory("rules"), "rules", script);
        netns.execScript("sh -e " + file);
    }

    /**
     * Nothing of chainsocks' rules is in force: no chain or table of ours in nat or mangle (iptables and ip6tables)
     * or in nft, and no policy routing rule or route with our routing protocol, or for {@code table}.
     */
    static void assertNothingInForce(Netns netns, long table) {
        for (String ip : List.of("-4", "-6")) {
            assertThat(netns.exec("ip", ip, "rule", "list")).as("ip %s rule", ip)
                    .doesNotContain("proto 67", "lookup " + table);
            assertThat(netns.exec("ip", ip, "route", "show", "table", "all")).as("ip %s route", ip)
                    .doesNotContain("proto 67", "table " + table);
        }
        StringBuilder tables = new StringBuilder();
        for (String save : List.of("iptables-save", "ip6tables-save")) {
            for (String t : List.of("nat", "mangle")) {
                tables.append(netns.exec(save, "-t", t));
            }
        }
        assertThat(tables.toString()).as("iptables").doesNotContainIgnoringCase("chainsocks")
                .doesNotContain("TPROXY", "REDIRECT");
        assertThat(netns.exec("nft", "list", "ruleset")).as("nft").doesNotContainIgnoringCase("chainsocks")
                .doesNotContain("tproxy", "redirect");
    }
}
