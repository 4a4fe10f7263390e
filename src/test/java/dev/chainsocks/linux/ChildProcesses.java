package dev.chainsocks.linux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs commands and child JVMs (the test classpath, {@link OriginalDestinationProbe}) for the linux tests. */
public final class ChildProcesses {
    private ChildProcesses() {
    }

    /** The command line that starts {@code mainClass} on this JVM's classpath with the sun.nio.ch export. */
    public static List<String> javaCommand(Class<?> mainClass, String... args) {
        List<String> command = javaCommandWithoutExports(mainClass, args);
        command.add(1, "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED");
        return command;
    }

    /** As {@link #javaCommand}, but without {@code --add-exports}: what a plain {@code java -cp} run gets. */
    public static List<String> javaCommandWithoutExports(Class<?> mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return command;
    }

    /** Runs a command to completion (60 s at most) and returns its exit code and combined output. */
    public static Result run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        // Output here is small; reading after exit cannot dead-lock on a full pipe buffer.
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("timed out after 60 s: " + String.join(" ", command));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(process.exitValue(), output);
    }

    /** Runs a command that must succeed. */
    public static String runOrFail(String... command) throws IOException, InterruptedException {
        Result result = run(List.of(command));
        if (result.exitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + result.exitCode() + ": "
                    + result.output());
        }
        return result.output();
    }

    public static boolean isRoot() throws IOException {
        return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    }

    /** Whether an executable of this name is on PATH (or in /sbin, /usr/sbin, which a non-login PATH may miss). */
    public static boolean onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin";
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    public record Result(int exitCode, String output) {
    }
}
