package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.fail;

import dev.chainsocks.testsupport.Prerequisite;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A real client program from a Debian package (curl, ncat, socat, Python with PySocks), run to completion with a
 * deadline.
 *
 * <p>When the program is missing the test is skipped on a developer machine and fails in CI ({@code CI=true}),
 * where {@code .ci/run} installs it: a skipped interop suite there would look green while proving nothing. Output
 * goes to temporary files, not pipes, so a chatty program cannot block; the child gets an environment without
 * proxy variables, so a {@code http_proxy} on the machine cannot send curl somewhere else.
 */
final class ExternalClient {

    /** Debian's Python, where python3-socks installs; the {@code python3} on PATH may be a pyenv shim without it. */
    static final String DEBIAN_PYTHON = "/usr/bin/python3";

    private final Path program;

    private ExternalClient(Path program) {
        this.program = program;
    }

    /** What a finished program left behind. */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {

        Result requireSuccess() {
            if (exitCode != 0) {
                throw new AssertionError(describe());
            }
            return this;
        }

        String describe() {
            return String.join(" ", command) + " exited " + exitCode + "\n--- stdout ---\n" + stdout
                    + "\n--- stderr ---\n" + stderr;
        }
    }

    /** The program {@code name} from PATH (or an absolute path), or skip/fail naming {@code debianPackage}. */
    static ExternalClient require(String name, String debianPackage) {
        Path found = locate(name);
        if (found == null) {
            missing(name + " is not installed (Debian package " + debianPackage + ")");
        }
        return new ExternalClient(found);
    }

    /** Debian's python3 with PySocks importable, or skip/fail naming python3 and python3-socks. */
    static ExternalClient requirePySocks() {
        ExternalClient python = require(DEBIAN_PYTHON, "python3");
        Result probe = python.run(Duration.ofSeconds(20), "-c", "import socks");
        if (probe.exitCode() != 0) {
            missing("PySocks is not importable by " + DEBIAN_PYTHON + " (Debian package python3-socks): "
                    + probe.stderr().strip());
        }
        return python;
    }

    private static void missing(String what) {
        Prerequisite.missing(what);
    }

    private static Path locate(String name) {
        if (name.indexOf('/') >= 0) {
            Path path = Path.of(name);
            return Files.isExecutable(path) ? path : null;
        }
        String searchPath = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : searchPath.split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /**
     * Runs the program with {@code args}, feeding it {@code stdin} (null: /dev/null). A program still running at
     * the deadline is destroyed through its process handle, its children first, and the test fails with what it
     * printed so far.
     */
    Result runWithInput(Duration timeout, byte[] stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add(program.toString());
        command.addAll(List.of(args));
        Path out = null;
        Path err = null;
        Process process = null;
        try {
            out = Files.createTempFile("chainsocks-interop-out", ".txt");
            err = Files.createTempFile("chainsocks-interop-err", ".txt");
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().keySet().removeIf(key -> key.toLowerCase(Locale.ROOT).endsWith("_proxy"));
            if (stdin == null) {
                builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            }
            process = builder.start();
            if (stdin != null) {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(stdin);
                } catch (IOException exitedEarly) {
                    // a client that gave up (proxy refused it) before reading its input; its exit code tells
                }
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                destroy(process);
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "\n--- stdout ---\n" + Files.readString(out) + "\n--- stderr ---\n" + Files.readString(err));
            }
            return new Result(List.copyOf(command), process.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + String.join(" ", command), e);
        } finally {
            if (process != null && process.isAlive()) {
                destroy(process);
            }
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    Result run(Duration timeout, String... args) {
        return runWithInput(timeout, null, args);
    }

    private static void destroy(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteQuietly(Path path) {
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
    }

    @Override
    public String toString() {
        return program.toString();
    }
}
