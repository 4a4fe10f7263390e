package dev.chainsocks.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A long-running program started by a test (a proxy, a server, chainsocks itself) with stdout and stderr in one log
 * file.
 *
 * <p>{@code ip netns exec NS prog} enters the namespace and then execs {@code prog}, so {@link #pid()} is the program's
 * own PID and {@link #stop()} signals exactly it: SIGTERM first, SIGKILL only after a grace period.
 */
public final class ManagedProcess implements AutoCloseable {

    public static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final String name;
    private final Netns netns;
    private final Process process;
    private final Path logFile;
    private final List<String> command;
    private Integer exitCode;

    ManagedProcess(String name, Netns netns, Process process, Path logFile, List<String> command) {
        this.name = name;
        this.netns = netns;
        this.process = process;
        this.logFile = logFile;
        this.command = List.copyOf(command);
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path logFile() {
        return logFile;
    }

    public List<String> command() {
        return command;
    }

    /** The program this PID runs, from {@code /proc/<pid>/exe}; empty once it has exited. */
    public Optional<Path> executable() {
        try {
            return Optional.of(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid()), "exe")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The exit code once the process has exited. */
    public Optional<Integer> exitCode() {
        if (exitCode == null && !process.isAlive()) {
            exitCode = process.exitValue();
        }
        return Optional.ofNullable(exitCode);
    }

    public String logText() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<String> logLines() {
        return logText().lines().toList();
    }

    public long countLogLines(String substring) {
        return logLines().stream().filter(line -> line.contains(substring)).count();
    }

    /**
     * Waits until the process listens on {@code host:port} (checked with {@code ss}, so the check itself makes no
     * connection that would show up in access logs). Fails at once, with the log, if the process exits meanwhile.
     */
    public ManagedProcess waitForPort(String host, int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(this + " exited with " + process.exitValue()
                        + " before listening on " + Endpoint.of(host, port) + "\n" + tail());
            }
            if (netns.isListening(host, port)) {
                return this;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(this + " is not listening on " + Endpoint.of(host, port)
                        + " after " + timeout + "\n" + tail());
            }
            pause(100);
        }
    }

    public ManagedProcess waitForPort(Endpoint endpoint, Duration timeout) {
        return waitForPort(endpoint.host(), endpoint.port(), timeout);
    }

    /** Waits until at least {@code count} log lines match, then returns all matching lines. */
    public List<String> awaitLogLines(Predicate<String> matcher, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> matching = logLines().stream().filter(matcher).toList();
            if (matching.size() >= count) {
                return matching;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " matching log lines from " + this + " within "
                        + timeout + ", found " + matching.size() + "\n" + tail());
            }
            pause(100);
        }
    }

    /** Waits for the first log line containing {@code substring}. */
    public String awaitLogLine(String substring, Duration timeout) {
        return awaitLogLines(line -> line.contains(substring), 1, timeout).get(0);
    }

    /** SIGTERM, then SIGKILL after {@link #STOP_GRACE}; returns the exit code. Safe to call more than once. */
    public int stop() {
        return stop(STOP_GRACE);
    }

    public int stop(Duration grace) {
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    System.err.println("e2e: " + this + " ignored SIGTERM for " + grace + ", sending SIGKILL");
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        return exitCode().orElse(-1);
    }

    @Override
    public void close() {
        stop();
    }

    /** The last lines of the log, for failure messages. */
    public String tail() {
        List<String> lines = logLines();
        List<String> last = lines.subList(Math.max(0, lines.size() - 40), lines.size());
        return "--- last lines of " + logFile + " ---\n" + String.join("\n", last);
    }

    @Override
    public String toString() {
        return name + " (pid " + pid() + " in " + netns.name() + ")";
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
