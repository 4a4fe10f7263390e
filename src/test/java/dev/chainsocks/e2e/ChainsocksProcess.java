package dev.chainsocks.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged chainsocks jar started the way a user starts it: {@code java -jar chainsocks.jar <args>} inside a
 * namespace, e.g. {@code run --listen 0.0.0.0:12345 --via socks5://198.19.2.2:1080} in {@code gw}.
 *
 * <p>Every process gets its own {@link Instance} directory under the workspace's runtime directory: its control
 * socket, the directory jffi unpacks its native library to, and its temp directory. Namespaces do not separate
 * {@code /run}, so a test that let {@code run} take the default {@code /run/chainsocks/control.sock} would collide
 * with a chainsocks already running on the machine; {@link #command} refuses to build such a command line. A
 * {@code run} started here that names no control socket is given its instance's.
 *
 * <p>A process run as a {@link SystemUser} gets a copy of the jar and of its {@code --config} file in the runtime
 * directory, and owns its instance directory: the user may not be able to reach the checkout.
 */
public final class ChainsocksProcess implements AutoCloseable {

    public static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    /** Subcommands that use a control socket: they must be given one explicitly. */
    private static final Set<String> CONTROL_COMMANDS = Set.of("run", "status", "connections", "reload", "top");
    private static final Pattern CONFIGURED_SOCKET =
            Pattern.compile("(?m)^\\s*control-socket\\s*=\\s*\"([^\"]*)\"");

    private final ManagedProcess process;
    private final Instance instance;
    private final Optional<Path> controlSocket;

    private ChainsocksProcess(ManagedProcess process, Instance instance, Optional<Path> controlSocket) {
        this.process = process;
        this.instance = instance;
        this.controlSocket = controlSocket;
    }

    /**
     * One process's own directory, {@code <runtime>/<name>[-n]/}: {@code control.sock}, {@code jffi/} and
     * {@code tmp/}, owned by the user the process runs as.
     */
    public record Instance(Path directory, Path controlSocket, Path jffi, Path tmp) {

        static Instance create(TestWorkspace workspace, String name, SystemUser user) {
            Path directory = workspace.newRuntimeDirectory(name);
            Instance instance = new Instance(directory, directory.resolve("control.sock"), directory.resolve("jffi"),
                    directory.resolve("tmp"));
            Prerequisites.createDirectories(instance.jffi());
            Prerequisites.createDirectories(instance.tmp());
            if (user != null) {
                Command.run(List.of("chown", "-R", user.uid() + ":" + user.gid(), directory.toString()),
                        Command.DEFAULT_TIMEOUT).requireSuccess();
            }
            return instance;
        }
    }

    /** Starts {@code chainsocks <args>} as root in {@code netns}; logs to {@code <logName>.log}. */
    public static ChainsocksProcess start(Netns netns, String logName, String... args) {
        return startAs(null, netns, logName, args);
    }

    /** Starts chainsocks as {@code user} (for local mode, where its own connections are exempted by uid). */
    public static ChainsocksProcess startAs(SystemUser user, Netns netns, String logName, String... args) {
        return startWithJvmOptions(user, netns, logName, List.of(), args);
    }

    /**
     * Starts chainsocks with {@code jvmOptions} before {@code -jar}, as an operator would put them in the unit's
     * command line (e.g. {@code -Djava.security.krb5.conf=FILE}).
     */
    public static ChainsocksProcess startWithJvmOptions(SystemUser user, Netns netns, String logName,
            List<String> jvmOptions, String... args) {
        Instance instance = Instance.create(netns.workspace(), logName, user);
        List<String> all = new ArrayList<>(List.of(args));
        if (subcommand(all).filter("run"::equals).isPresent() && controlSocketOf(all).isEmpty()) {
            all.add("--control-socket");
            all.add(instance.controlSocket().toString());
        }
        List<String> command = new ArrayList<>(command(netns.workspace(), instance, user, all));
        command.addAll(command.indexOf("-jar"), jvmOptions);
        return new ChainsocksProcess(netns.spawn(logName, command), instance, controlSocketOf(all));
    }

    /** Runs a one-shot subcommand ({@code rules}, {@code check}, {@code --version}) to completion in {@code netns}. */
    public static Command.Result runToCompletion(Netns netns, Duration timeout, String... args) {
        String name = subcommand(List.of(args)).orElse("chainsocks");
        Instance instance = Instance.create(netns.workspace(), name, null);
        return Command.run(netns.wrap(command(netns.workspace(), instance, null, List.of(args))), timeout);
    }

    /**
     * The full command line for a process of its own in {@code workspace}: java from the running JDK with jffi's
     * and Java's temp directories in a fresh instance directory, the jar, then {@code args}, as root.
     */
    public static List<String> command(TestWorkspace workspace, String... args) {
        Instance instance = Instance.create(workspace, subcommand(List.of(args)).orElse("chainsocks"), null);
        return command(workspace, instance, null, List.of(args));
    }

    private static List<String> command(TestWorkspace workspace, Instance instance, SystemUser user,
                                        List<String> args) {
        requireOwnControlSocket(args);
        List<String> arguments = new ArrayList<>(args);
        Path jar = Prerequisites.chainsocksJar();
        List<String> command = new ArrayList<>();
        if (user != null) {
            jar = workspace.stagedJar();
            stageConfigFor(workspace, instance, arguments);
            command.addAll(user.runAs());
        }
        // No systemd runtime directory from the environment the tests run in; temp files in the instance.
        command.addAll(List.of("env", "-u", "RUNTIME_DIRECTORY", "TMPDIR=" + instance.tmp()));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Djffi.extract.dir=" + instance.jffi());
        command.add("-Djava.io.tmpdir=" + instance.tmp());
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(arguments);
        return command;
    }

    /**
     * Fails the test when {@code args} would talk to, or listen on, a default control socket: every subcommand that
     * uses one must name its own, with {@code --control-socket} or (for {@code run}) {@code service.control-socket}
     * in its {@code --config} file, and not one under {@code /run/chainsocks}.
     */
    static void requireOwnControlSocket(List<String> args) {
        Optional<String> subcommand = subcommand(args);
        if (subcommand.isEmpty() || !CONTROL_COMMANDS.contains(subcommand.get())) {
            return;
        }
        Optional<Path> socket = controlSocketOf(args);
        if (socket.isEmpty()) {
            throw new AssertionError("e2e: 'chainsocks " + String.join(" ", args) + "' names no control socket, so "
                    + "it would use the machine's default (/run/chainsocks/control.sock, where an installed "
                    + "chainsocks may answer); pass --control-socket with a path under the test's workspace "
                    + "(ChainsocksProcess.start does that for run)");
        }
        if (socket.get().toAbsolutePath().normalize().startsWith(Path.of("/run/chainsocks"))) {
            throw new AssertionError("e2e: 'chainsocks " + String.join(" ", args) + "' uses control socket "
                    + socket.get() + ", the machine's own directory; use one under the test's workspace");
        }
    }

    /** The first argument that is not an option: the subcommand. */
    private static Optional<String> subcommand(List<String> args) {
        return args.stream().filter(arg -> !arg.startsWith("-")).findFirst();
    }

    /** {@code --control-socket PATH}, else {@code service.control-socket} from the {@code --config} file. */
    private static Optional<Path> controlSocketOf(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--control-socket") && i + 1 < args.size()) {
                return Optional.of(Path.of(args.get(i + 1)));
            }
            if (arg.startsWith("--control-socket=")) {
                return Optional.of(Path.of(arg.substring("--control-socket=".length())));
            }
        }
        return configFile(args).flatMap(ChainsocksProcess::configuredSocket);
    }

    private static Optional<Path> configFile(List<String> args) {
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("--config") || args.get(i).equals("-c")) {
                return Optional.of(Path.of(args.get(i + 1)));
            }
        }
        return args.stream().filter(arg -> arg.startsWith("--config=")).findFirst()
                .map(arg -> Path.of(arg.substring("--config=".length())));
    }

    private static Optional<Path> configuredSocket(Path config) {
        try {
            Matcher matcher = CONFIGURED_SOCKET.matcher(Files.readString(config));
            return matcher.find() ? Optional.of(Path.of(matcher.group(1))) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("e2e: cannot read " + config + " to find its control socket", e);
        }
    }

    /** Replaces {@code --config FILE} with a copy the user can read, in the instance directory. */
    private static void stageConfigFor(TestWorkspace workspace, Instance instance, List<String> arguments) {
        for (int i = 0; i + 1 < arguments.size(); i++) {
            if (arguments.get(i).equals("--config") || arguments.get(i).equals("-c")) {
                Path staged = workspace.stageReadable(Path.of(arguments.get(i + 1)), instance.directory());
                arguments.set(i + 1, staged.toString());
            }
        }
    }

    public ChainsocksProcess waitForPort(String host, int port) {
        process.waitForPort(host, port, START_TIMEOUT);
        return this;
    }

    public ChainsocksProcess waitForPort(Endpoint endpoint) {
        return waitForPort(endpoint.host(), endpoint.port());
    }

    /** The control socket this process was given, for {@code run}. */
    public Optional<Path> controlSocket() {
        return controlSocket;
    }

    /** This process's own directory. */
    public Instance instance() {
        return instance;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public List<String> logLines() {
        return process.logLines();
    }

    public String logText() {
        return process.logText();
    }

    /** Waits until {@code count} log lines match (access-log lines are written when a session ends). */
    public List<String> awaitLogLines(Predicate<String> matcher, int count, Duration timeout) {
        return process.awaitLogLines(matcher, count, timeout);
    }

    public ManagedProcess process() {
        return process;
    }

    /** SIGTERM and wait; returns the exit code (a clean shutdown on SIGTERM is part of what the tests check). */
    public int stop() {
        return process.stop();
    }

    @Override
    public void close() {
        process.stop();
    }

    @Override
    public String toString() {
        return "chainsocks " + process;
    }
}
