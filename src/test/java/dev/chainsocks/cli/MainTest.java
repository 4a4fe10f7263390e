package dev.chainsocks.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * The root command builds only the invoked subcommand's model; what a user sees must not change for it: every
 * subcommand parses and prints the same help as in the whole tree, and {@code --help} still lists them all.
 */
class MainTest {

    private static final List<String> VISIBLE = List.of("run", "check", "rules", "status", "connections", "reload",
            "top", "socks-server", "demo", "import-redsocks", "help");
    private static final List<String> HIDDEN = List.of("demo-web", "demo-fetch", "warm-up");

    static List<String> allSubcommands() {
        return Main.commandLine().getSubcommands().keySet().stream().toList();
    }

    /** Runs the command line as {@link Main#run} does, printing into a string: "exit code\nstdout\nstderr". */
    private static String execute(CommandLine commandLine, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setExitCodeExceptionMapper(Main::exitCodeFor);
        int code = commandLine.execute(args);
        return code + "\n" + out + "\n" + err;
    }

    @Test
    void theWholeTreeHasEverySubcommandInHelpOrder() {
        Map<String, CommandLine> subcommands = Main.commandLine().getSubcommands();
        assertThat(subcommands.keySet()).containsExactly("run", "check", "rules", "status", "connections", "reload",
                "top", "socks-server", "demo", "demo-web", "demo-fetch", "import-redsocks", "warm-up", "help");
    }

    @Test
    void rootHelpListsEveryVisibleSubcommandAndNoHiddenOne() {
        String help = execute(Main.commandLineFor("--help"), "--help");
        assertThat(help).startsWith("0\nUsage: chainsocks [-hVv] [COMMAND]");
        String commands = help.substring(help.indexOf("Commands:"));
        int last = -1;
        for (String name : VISIBLE) {
            int at = commands.indexOf("\n  " + name + " ");
            assertThat(at).as("%s in --help", name).isGreaterThan(last);
            last = at;
        }
        for (String name : HIDDEN) {
            assertThat(commands).doesNotContain("\n  " + name + " ");
        }
        assertThat(execute(Main.commandLineFor(), "")).isEqualTo(execute(Main.commandLine(), ""));
        assertThat(execute(Main.commandLineFor("help"), "help")).isEqualTo(help);
    }

    @Test
    void aCommandLineThatNamesASubcommandBuildsOnlyThatOne() {
        assertThat(Main.commandLineFor("run", "--config", "x.toml").getSubcommands()).containsOnlyKeys("run");
        assertThat(Main.commandLineFor("demo-web").getSubcommands()).containsOnlyKeys("demo-web");
        assertThat(Main.commandLineFor("top").getSubcommands()).containsOnlyKeys("top");
        assertThat(Main.commandLineFor("-v", "run").getSubcommands().keySet()).containsAll(VISIBLE);
        assertThat(Main.commandLineFor("help", "run").getSubcommands().keySet()).containsAll(VISIBLE);
        assertThat(Main.commandLineFor("rnu").getSubcommands().keySet()).containsAll(VISIBLE);
    }

    @ParameterizedTest
    @MethodSource("allSubcommands")
    void eachSubcommandHasTheSameUsageAsInTheWholeTree(String name) {
        String alone = Main.commandLineFor(name).getSubcommands().get(name).getUsageMessage();
        assertThat(alone).isEqualTo(Main.commandLine().getSubcommands().get(name).getUsageMessage());
        if (VISIBLE.contains(name) && !name.equals("help")) {
            String help = execute(Main.commandLineFor(name, "--help"), name, "--help");
            assertThat(help).startsWith("0\nUsage: chainsocks " + name).contains(alone)
                    .isEqualTo(execute(Main.commandLine(), name, "--help"))
                    .isEqualTo(execute(Main.commandLine(), "help", name));
        }
    }

    /** A short valid command line for each subcommand, with the inherited -v given twice where it applies. */
    static List<List<String>> commandLines() {
        return List.of(List.of("run", "-vv", "--listen", "127.0.0.1:12345", "--via", "socks5://127.0.0.1:1080"),
                List.of("check", "-v", "--config", "chainsocks.toml"),
                List.of("rules", "-v", "--config", "chainsocks.toml"),
                List.of("status", "-v"), List.of("connections", "-v"), List.of("reload", "-v"),
                List.of("top", "-v"), List.of("socks-server", "-v", "--listen", "127.0.0.1:1080"),
                List.of("demo", "-v"), List.of("demo-web", "-v", "--listen", "127.0.0.1:8080"),
                List.of("demo-fetch", "-v", "http://198.18.0.1/"), List.of("import-redsocks", "-v", "redsocks.conf"),
                List.of("warm-up", "-v"), List.of("help", "run"));
    }

    @Test
    void everySubcommandHasACommandLineBelow() {
        assertThat(commandLines().stream().map(args -> args.get(0)).toList()).isEqualTo(allSubcommands());
    }

    @ParameterizedTest
    @MethodSource("commandLines")
    void eachSubcommandParsesAsInTheWholeTree(List<String> commandLine) {
        String[] args = commandLine.toArray(new String[0]);
        CommandLine lazy = Main.commandLineFor(args);
        assertThat(lazy.getSubcommands().keySet())
                .isEqualTo(commandLine.get(0).equals("help") ? Main.commandLine().getSubcommands().keySet()
                        : Set.of(commandLine.get(0)));
        CommandLine.ParseResult alone = lazy.parseArgs(args);
        CommandLine.ParseResult whole = Main.commandLine().parseArgs(args);
        assertThat(alone.subcommand().commandSpec().name()).isEqualTo(commandLine.get(0));
        assertThat(alone.subcommand().originalArgs()).isEqualTo(whole.subcommand().originalArgs());
        assertThat(alone.subcommand().matchedOptions()).hasSameSizeAs(whole.subcommand().matchedOptions());
        if (commandLine.contains("-v")) {
            assertThat(alone.subcommand().matchedOption("-v").<boolean[]>getValue()).containsExactly(true);
        } else if (commandLine.contains("-vv")) {
            assertThat(alone.subcommand().matchedOption("-v").<boolean[]>getValue()).containsExactly(true, true);
        }
    }

    @Test
    void usageErrorsReadAsBefore() {
        assertThat(execute(Main.commandLineFor("run", "--bogus"), "run", "--bogus"))
                .isEqualTo(execute(Main.commandLine(), "run", "--bogus"))
                .startsWith("2\n\nUnknown option: '--bogus'");
        assertThat(execute(Main.commandLineFor("rnu"), "rnu")).isEqualTo(execute(Main.commandLine(), "rnu"))
                .startsWith("2\n\nUnmatched argument at index 0: 'rnu'");
    }
}
