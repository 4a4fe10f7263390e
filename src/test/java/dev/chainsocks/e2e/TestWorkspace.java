package dev.chainsocks.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Where one test keeps its files: process logs under {@code target/e2e-logs/<test>/} (kept after the run, so CI
 * failures can be read) and generated configs, keys and data under {@code target/e2e-work/<test>-<pid>/}.
 */
public final class TestWorkspace {

    private final String testName;
    private final Path logs;
    private final Path work;
    private final Map<String, Integer> usedNames = new HashMap<>();

    private TestWorkspace(String testName, Path logs, Path work) {
        this.testName = testName;
        this.logs = logs;
        this.work = work;
    }

    public static TestWorkspace forTest(String testName) {
        String safe = testName.replaceAll("[^A-Za-z0-9._-]", "_");
        Path target = targetDirectory();
        Path logs = target.resolve("e2e-logs").resolve(safe);
        Path work = target.resolve("e2e-work").resolve(safe + "-" + ProcessHandle.current().pid());
        Prerequisites.createDirectories(logs);
        Prerequisites.createDirectories(work);
        return new TestWorkspace(safe, logs, work);
    }

    /** The Maven build directory: the packaged jar's directory when failsafe names it, else {@code ./target}. */
    public static Path targetDirectory() {
        String jar = System.getProperty("chainsocks.jar");
        if (jar != null) {
            return Path.of(jar).toAbsolutePath().getParent();
        }
        String basedir = System.getProperty("basedir", ".");
        return Path.of(basedir, "target").toAbsolutePath().normalize();
    }

    public String testName() {
        return testName;
    }

    public Path logs() {
        return logs;
    }

    public Path work() {
        return work;
    }

    /** A fresh log file {@code <name>.log}; a second process with the same name gets {@code <name>-2.log}. */
    public synchronized Path newLogFile(String name) {
        return logs.resolve(uniqueName(name) + ".log");
    }

    /** A fresh, empty directory under the work directory. */
    public synchronized Path newDirectory(String name) {
        Path dir = work.resolve(uniqueName(name));
        try {
            Files.createDirectories(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a text file into the work directory. */
    public Path writeFile(Path dir, String fileName, String content) {
        try {
            return Files.writeString(dir.resolve(fileName), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String uniqueName(String name) {
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        int n = usedNames.merge(safe, 1, Integer::sum);
        return n == 1 ? safe : safe + "-" + n;
    }

    @Override
    public String toString() {
        return "workspace " + testName + " (logs " + logs + ")";
    }
}
