package dev.chainsocks.cli;

import dev.chainsocks.log.Logging;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code chainsocks}: the root command. Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
 */
@Command(name = "chainsocks", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Sends a machine's or a LAN's TCP connections through chains of SOCKS and HTTP proxies.",
        subcommands = {RunCommand.class, CheckCommand.class, RulesCommand.class, ControlCommands.Status.class,
                ControlCommands.Connections.class, ControlCommands.Reload.class, TopCommand.class, SocksServerCommand.class,
                DemoCommand.class, DemoCommand.Web.class, DemoCommand.Fetch.class, ImportRedsocksCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

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
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code; for tests and {@link #main}. */
    public static int run(String... args) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setExitCodeExceptionMapper(Main::exitCodeFor);
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            cmd.getErr().println("chainsocks: " + messageOf(exception));
            return exitCodeFor(exception);
        });
        return commandLine.execute(args);
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
