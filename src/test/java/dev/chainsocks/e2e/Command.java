package dev.chainsocks.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one external program to completion with a deadline and captures what it printed.
 *
 * <p>Output goes to temporary files rather than pipes so a chatty program can never block on a full pipe. Every child
 * gets an environment without proxy variables: a {@code http_proxy} inherited from the machine would silently send the
 * test's curl somewhere else than the topology under test.
 */
public final class Command {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private Command() {
    }

    /** What a finished program left behind. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {

        public boolean succeeded() {
            return exitCode == 0;
        }

        /** Returns this result, or throws naming the command, its exit code and both outputs. */
        public Result requireSuccess() {
            if (!succeeded()) {
                throw new IllegalStateException(describe());
            }
            return this;
        }

        public String describe() {
            return "command " + String.join(" ", command) + " exited " + exitCode
                    + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    public static Result run(List<String> command, Duration timeout) {
        return run(command, timeout, null);
    }

    /**
     * Runs {@code command}, feeding it {@code stdin} if not null (otherwise /dev/null). A program still running at the
     * deadline is killed and reported as an {@link IllegalStateException} with what it printed so far.
     */
    public static Result run(List<String> command, Duration timeout, String stdin) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("cs-e2e-out", ".txt");
            err = Files.createTempFile("cs-e2e-err", ".txt");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            withoutProxyVariables(builder);
            if (stdin == null) {
                builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            }
            Process process = builder.start();
            if (stdin != null) {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                throw new IllegalStateException("command " + String.join(" ", command) + " did not finish within "
                        + timeout + "\n--- stdout ---\n" + Files.readString(out) + "--- stderr ---\n"
                        + Files.readString(err));
            }
            return new Result(List.copyOf(command), process.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** Removes proxy settings (any case) that curl, ssh helpers or Java might pick up from the machine. */
    static void withoutProxyVariables(ProcessBuilder builder) {
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(key -> key.toLowerCase(Locale.ROOT).endsWith("_proxy"));
        env.remove("JAVA_TOOL_OPTIONS");
        env.remove("_JAVA_OPTIONS");
    }

    private static void deleteQuietly(Path path) {
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }
}
