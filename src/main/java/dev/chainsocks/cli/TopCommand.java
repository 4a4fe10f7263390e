package dev.chainsocks.cli;

import dev.chainsocks.cli.top.Frame;
import dev.chainsocks.cli.top.FullScreen;
import dev.chainsocks.cli.top.Line;
import dev.chainsocks.cli.top.ReportSource;
import dev.chainsocks.cli.top.RestoreOnShutdown;
import dev.chainsocks.cli.top.Sampler;
import dev.chainsocks.cli.top.SortColumn;
import dev.chainsocks.cli.top.TopView;
import dev.chainsocks.control.ControlSocketLocation;
import dev.chainsocks.service.ConnectionsReport;
import dev.chainsocks.syntax.DurationSyntax;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code chainsocks top}: the running service's connections and chains, live, or once for a script. */
@Command(name = "top", mixinStandardHelpOptions = true,
        description = {"Shows the running service live, refreshed every interval: each connection's client, "
                + "destination, chain, bytes and current rate both ways, and age; each chain's health and recent "
                + "failures; totals. Keys: s sorts by the next column (rate, up-rate, down-rate, bytes, age), "
                + "q quits.",
                "With --once, prints the same tables once as plain text, after two samples one interval apart "
                        + "(the rates need both), and exits."})
final class TopCommand implements Callable<Integer> {

    /** The shortest interval: samples cost the service a little, rates over less are noise. */
    static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    /** How long one sample may take before the view says the service does not answer. */
    static final Duration SAMPLE_TIMEOUT = Duration.ofSeconds(5);

    @Option(names = "--control-socket", paramLabel = "PATH", description = ControlCommands.SOCKET_DESCRIPTION)
    Path socket;

    @Option(names = "--once", description = "Print the tables once, without escape codes, and exit.")
    boolean once;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "1s", converter = DurationConverter.class,
            description = "Time between samples, e.g. 500ms or 2s. Default: ${DEFAULT-VALUE}.")
    Duration interval;

    @Option(names = "--sort", paramLabel = "COLUMN", defaultValue = "rate", converter = SortConverter.class,
            description = "The connections' order at the start: rate, up-rate, down-rate, bytes or age "
                    + "(busiest or oldest first). Default: ${DEFAULT-VALUE}.")
    SortColumn sort;

    @Option(names = "--width", paramLabel = "COLUMNS",
            description = "With --once: cut lines to this many characters, narrowing addresses, chains and errors "
                    + "first. Default: no limit.")
    int width;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (interval.compareTo(MIN_INTERVAL) < 0) {
            throw new Main.UsageException("--interval " + DurationSyntax.format(interval) + " is too short; use "
                    + DurationSyntax.format(MIN_INTERVAL) + " or more");
        }
        if (width < 0 || (width > 0 && !once)) {
            throw new Main.UsageException("--width takes a positive number of columns and goes with --once; the "
                    + "full-screen view uses the terminal's width");
        }
        ControlSocketLocation location = ControlSocketLocation.forThisProcess(Optional.ofNullable(socket));
        if (location.socket().isEmpty()) {
            spec.commandLine().getErr().println("chainsocks: " + location.describe());
            return Main.EXIT_FAILURE;
        }
        ReportSource source = ReportSource.controlSocket(location.socket().get(), SAMPLE_TIMEOUT);
        return once ? once(source) : fullScreen(source);
    }

    private int once(ReportSource source) throws InterruptedException {
        Sampler sampler = new Sampler();
        Frame frame;
        try {
            sampler.next(source.fetch());
            Thread.sleep(interval.toMillis());
            frame = sampler.next(source.fetch());
        } catch (IOException e) {
            spec.commandLine().getErr().println("chainsocks: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
        PrintWriter out = spec.commandLine().getOut();
        for (Line line : TopView.render(frame, sort, width, 0, "")) {
            out.println(line.text());
        }
        out.flush();
        return Main.EXIT_OK;
    }

    private int fullScreen(ReportSource source) throws IOException {
        // dumb(true): without a terminal, JLine hands back a dumb one instead of failing; that is refused below.
        try (RestoreOnShutdown onShutdown = RestoreOnShutdown.register();
                Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build()) {
            if (terminal.getType().startsWith(Terminal.TYPE_DUMB)) {
                spec.commandLine().getErr().println("chainsocks: top needs a terminal (stdin and stdout on a tty "
                        + "with TERM set); use chainsocks top --once for a plain table");
                return Main.EXIT_FAILURE;
            }
            ConnectionsReport first;
            try {
                first = source.fetch();
            } catch (IOException e) {
                spec.commandLine().getErr().println("chainsocks: " + e.getMessage());
                return Main.EXIT_FAILURE;
            }
            new FullScreen(terminal, source, first, sort, interval).run(onShutdown);
            return Main.EXIT_OK;
        }
    }

    /** {@code --sort} values as {@link SortColumn#toString()} writes them. */
    static final class SortConverter implements CommandLine.ITypeConverter<SortColumn> {
        @Override
        public SortColumn convert(String value) {
            try {
                return SortColumn.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
