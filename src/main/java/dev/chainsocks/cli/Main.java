package dev.chainsocks.cli;

import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.log.Logging;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code chainsocks}: the root command. Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
 *
 * <p>picocli builds a command's model by reflection over its class, its options' types and their converters, for
 * every subcommand it is given. When the first argument names a subcommand, only that one is given, so that
 * {@code chainsocks run} does not pay start-up time for the models of {@code top}, {@code rules} or {@code demo};
 * any other command line (root options, {@code help}, a mistyped name) gets the whole tree, whose help and
 * suggestions need every subcommand.
 */
@Command(name = "chainsocks", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Sends a machine's or a LAN's TCP connections through chains of SOCKS and HTTP proxies.")
public final class Main {

    /** The subcommands by name, in the order {@code --help} lists them. */
    private static final Map<String, Class<?>> SUBCOMMANDS = subcommands();

    private static Map<String, Class<?>> subcommands() {
        Map<String, Class<?>> subcommands = new LinkedHashMap<>();
        subcommands.put("run", RunCommand.class);
        subcommands.put("check", CheckCommand.class);
        subcommands.put("rules", RulesCommand.class);
        subcommands.put("status", ControlCommands.Status.class);
        subcommands.put("connections", ControlCommands.Connections.class);
        subcommands.put("reload", ControlCommands.Reload.class);
        subcommands.put("top", TopCommand.class);
        subcommands.put("socks-server", SocksServerCommand.class);
        subcommands.put("demo", DemoCommand.class);
        subcommands.put("demo-web", DemoCommand.Web.class);
        subcommands.put("demo-fetch", DemoCommand.Fetch.class);
        subcommands.put("import-redsocks", ImportRedsocksCommand.class);
        subcommands.put("warm-up", WarmUpCommand.class);
        subcommands.put("help", CommandLine.HelpCommand.class);
        return subcommands;
    }

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "More logging: -v debug, -vv trace.")
    boolean[] verbosity = new boolean[0];

    /** Sets up logging once: the level the command asks for, raised by -v flags. */
    void configureLogging(String configuredLevel) {
        String level = switch (verbosity.length) {
            case 0 -> configuredLevel;
            case 1 -> "debug";
            default -> "trace";
        };
        Logging.configure(level.toLowerCase(Locale.ROOT), Logging.stderrIsJournal());
    }

    public static void main(String[] args) {
        if (args.length > 0 && "run".equals(args[0])) {
            LinuxSockets.bindInBackground(); // JNR's stub generation overlaps with picocli and the configuration
        }
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code; for tests and {@link #main}. */
    public static int run(String... args) {
        CommandLine commandLine = commandLineFor(args);
        commandLine.setExitCodeExceptionMapper(Main::exitCodeFor);
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            cmd.getErr().println("chainsocks: " + messageOf(exception));
            return exitCodeFor(exception);
        });
        return commandLine.execute(args);
    }

    /** The root command with every subcommand: what help, completion and the manual pages describe. */
    public static CommandLine commandLine() {
        CommandLine root = new CommandLine(new Main());
        SUBCOMMANDS.forEach(root::addSubcommand);
        return root;
    }

    /**
     * The root command with only the subcommand that {@code args[0]} names, which parses and runs that command line
     * exactly as {@link #commandLine()} would; the whole tree for any other command line.
     */
    static CommandLine commandLineFor(String... args) {
        Class<?> invoked = args.length == 0 || "help".equals(args[0]) ? null : SUBCOMMANDS.get(args[0]);
        if (invoked == null) {
            return commandLine();
        }
        CommandLine root = new CommandLine(new Main());
        root.addSubcommand(args[0], invoked);
        return root;
    }

    static int exitCodeFor(Throwable exception) {
        return exception instanceof UsageException || exception instanceof IllegalArgumentException
                || exception instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_FAILURE;
    }

    private static String messageOf(Throwable exception) {
        String message = exception.getMessage();
        return message == null ? exception.toString() : message;
    }

    /** A configuration or usage problem the user can fix; exits 2. */
    public static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public UsageException(String message) {
            super(message);
        }

        public UsageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"chainsocks " + (version == null ? "(development build)" : version),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor")
                            + ", " + System.getProperty("java.vm.name") + ") on " + System.getProperty("os.name")
                            + " " + System.getProperty("os.arch")};
        }
    }
}
