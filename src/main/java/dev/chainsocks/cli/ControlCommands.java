package dev.chainsocks.cli;

import dev.chainsocks.control.ControlClient;
import dev.chainsocks.control.ControlSocketLocation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The commands that talk to a running service over its control socket. */
final class ControlCommands {

    /** What {@code --control-socket} means, for every command that talks to the service. */
    static final String SOCKET_DESCRIPTION = "The service's control socket. Default, as chainsocks run chooses it: "
            + "$RUNTIME_DIRECTORY/control.sock, /run/chainsocks/control.sock for root, "
            + "$XDG_RUNTIME_DIR/chainsocks/control.sock for other users.";

    private ControlCommands() {
    }

    /** Options every control command shares. */
    abstract static class Base implements Callable<Integer> {

        @Option(names = "--control-socket", paramLabel = "PATH", description = SOCKET_DESCRIPTION)
        Path socket;

        @Spec
        CommandSpec spec;

        abstract String request();

        @Override
        public Integer call() {
            ControlSocketLocation location = ControlSocketLocation.forThisProcess(Optional.ofNullable(socket));
            if (location.socket().isEmpty()) {
                spec.commandLine().getErr().println("chainsocks: " + location.describe());
                return Main.EXIT_FAILURE;
            }
            String response;
            try {
                response = ControlClient.send(location.socket().get(), request());
            } catch (IOException e) {
                spec.commandLine().getErr().println("chainsocks: " + e.getMessage());
                return Main.EXIT_FAILURE;
            }
            spec.commandLine().getOut().print(response);
            spec.commandLine().getOut().flush();
            return response.startsWith("error:") ? Main.EXIT_FAILURE : Main.EXIT_OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows uptime, listeners, totals and each chain's health of the running service.")
    static final class Status extends Base {
        @Option(names = "--json", description = "Machine-readable output.")
        boolean json;

        @Override
        String request() {
            return json ? "status --json" : "status";
        }
    }

    @Command(name = "connections", mixinStandardHelpOptions = true,
            description = "Lists live sessions: client, original destination, chain, bytes, age.")
    static final class Connections extends Base {
        @Option(names = "--json", description = "Machine-readable output: the sessions with their byte counters, "
                + "the totals and each chain's health, as chainsocks top reads them.")
        boolean json;

        @Override
        String request() {
            return json ? "connections --json" : "connections";
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = {"Makes the running service read its configuration file again (like SIGHUP).",
                    "A bad file is rejected and the running configuration stays; live connections are never cut."})
    static final class Reload extends Base {
        @Override
        String request() {
            return "reload";
        }
    }
}
