package dev.chainsocks.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The packaged chainsocks jar started the way a user starts it: {@code java -jar chainsocks.jar <args>} inside a
 * namespace, e.g. {@code run --listen 0.0.0.0:12345 --via socks5://198.19.2.2:1080} in {@code gw}.
 *
 * <p>jffi unpacks its native library to {@code target/jffi} rather than /tmp, which may be mounted noexec.
 */
public final class ChainsocksProcess implements AutoCloseable {

    public static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final ManagedProcess process;

    private ChainsocksProcess(ManagedProcess process) {
        this.process = process;
    }

    /** Starts {@code chainsocks <args>} as root in {@code netns}; logs to {@code <logName>.log}. */
    public static ChainsocksProcess start(Netns netns, String logName, String... args) {
        return new ChainsocksProcess(netns.spawn(logName, command(null, args)));
    }

    /** Starts chainsocks as {@code user} (for local mode, where its own connections are exempted by uid). */
    public static ChainsocksProcess startAs(SystemUser user, Netns netns, String logName, String... args) {
        return new ChainsocksProcess(netns.spawn(logName, command(user, args)));
    }

    /** Runs a one-shot subcommand ({@code rules}, {@code check}, {@code --version}) to completion in {@code netns}. */
    public static Command.Result runToCompletion(Netns netns, Duration timeout, String... args) {
        return Command.run(netns.wrap(command(null, args)), timeout);
    }

    /** The full command line: java from the running JDK, the jffi extract dir, the jar, then {@code args}. */
    public static List<String> command(SystemUser user, String... args) {
        Path jar = Prerequisites.chainsocksJar();
        Path jffi = TestWorkspace.targetDirectory().resolve(user == null ? "jffi" : "jffi-" + user.name());
        Prerequisites.createDirectories(jffi);
        List<String> command = new ArrayList<>();
        if (user != null) {
            Command.run(List.of("chown", user.uid() + ":" + user.gid(), jffi.toString()), Command.DEFAULT_TIMEOUT)
                    .requireSuccess();
            command.addAll(user.runAs());
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Djffi.extract.dir=" + jffi);
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(List.of(args));
        return command;
    }

    public ChainsocksProcess waitForPort(String host, int port) {
        process.waitForPort(host, port, START_TIMEOUT);
        return this;
    }

    public ChainsocksProcess waitForPort(Endpoint endpoint) {
        return waitForPort(endpoint.host(), endpoint.port());
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
