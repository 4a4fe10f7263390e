package dev.chainsocks.e2e.service;

import dev.chainsocks.cli.Main;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code chainsocks <args>} in a child JVM on the test classpath, with the environment a test chooses (systemd's
 * {@code NOTIFY_SOCKET}, {@code WATCHDOG_USEC}). It is {@link Main} exactly as the packaged jar runs it, with real
 * signals and a real exit code, but needs neither root nor {@code mvn package}.
 */
final class ServiceJvm implements AutoCloseable {

    private final Process process;
    private final Path log;

    private ServiceJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts the child with {@code environment} added to a copy of ours from which every systemd variable was
     * removed; stdout and stderr go to {@code log}.
     */
    static ServiceJvm start(Path log, Path jffiDirectory, Map<String, String> environment, String... args) {
        return start(false, log, jffiDirectory, environment, args);
    }

    /**
     * As {@link #start(Path, Path, Map, String...)}, but the child inherits SIGHUP ignored, as under {@code nohup}:
     * bash sets the disposition and execs the JVM, which keeps it (and the PID).
     */
    static ServiceJvm startWithHangupIgnored(Path log, Path jffiDirectory, Map<String, String> environment,
                                             String... args) {
        return start(true, log, jffiDirectory, environment, args);
    }

    private static ServiceJvm start(boolean hangupIgnored, Path log, Path jffiDirectory,
                                    Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>();
        if (hangupIgnored) {
            command.addAll(List.of("bash", "-c", "trap '' HUP && exec \"$@\"", "bash"));
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED");
        command.add("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
        command.add("-Djffi.extract.dir=" + jffiDirectory);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(key -> key.startsWith("NOTIFY_") || key.startsWith("WATCHDOG_")
                || key.startsWith("LISTEN_") || key.toLowerCase(Locale.ROOT).endsWith("_proxy"));
        env.remove("JAVA_TOOL_OPTIONS");
        env.remove("_JAVA_OPTIONS");
        env.putAll(environment);
        try {
            Files.createDirectories(jffiDirectory);
            Files.writeString(log, "# " + environment + " " + String.join(" ", command) + "\n");
            return new ServiceJvm(builder.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Sends a signal by name ({@code HUP}, {@code TERM}) with kill(1); the JDK can only send TERM and KILL. */
    void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Waits for the exit and returns the code; fails, with the log, if it does not come within {@code timeout}. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("chainsocks (pid " + pid() + ") still running after " + timeout + "\n"
                        + logText());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Waits until the log contains {@code text}: the service writes its log lines from a thread of their own, so a
     * line can reach the file a moment after the event it reports (a notification, a control answer).
     */
    void awaitLog(String text, Duration timeout) {
        Eventually.until(timeout, () -> logText().contains(text), () -> "a log line with \"" + text + "\" in:\n"
                + logText());
    }

    String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills the child if a test left it running. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "chainsocks (pid " + pid() + ", log " + log + ")";
    }
}
