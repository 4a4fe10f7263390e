package dev.chainsocks.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where one test keeps its files: process logs under {@code target/e2e-logs/<test>/} (kept after the run, so CI
 * failures can be read), generated configs, keys and data under {@code target/e2e-work/<test>-<pid>/}, and a
 * {@linkplain #runtime() runtime directory} outside the checkout for what must not live in it.
 *
 * <p>The runtime directory holds each chainsocks process's own control socket, native-library and temp directories
 * (never the machine's {@code /run/chainsocks}, where an installed chainsocks may be answering), and copies of the
 * files that throwaway system users must read (the jar, their configs). The checkout may be somewhere those users
 * cannot go, such as under a 0700 home directory; the runtime directory is in the temp directory with modes 0755
 * and 0644, and {@link #close()} removes it.
 */
public final class TestWorkspace implements AutoCloseable {

    private static final String READABLE_DIRECTORY = "rwxr-xr-x";
    private static final String READABLE_FILE = "rw-r--r--";

    private final String testName;
    private final Path logs;
    private final Path work;
    private final Map<String, Integer> usedNames = new HashMap<>();
    private final Map<String, Integer> usedRuntimeNames = new HashMap<>();
    private Path runtime;
    private Path stagedJar;
    private boolean closed;

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

    /**
     * This workspace's runtime directory, {@code <temp>/cs-e2e-<random>}, made on first use: mode 0755 in a
     * directory every user may traverse, mounted without {@code noexec} (jffi loads a library it unpacks there),
     * and short enough for unix socket paths (at most 107 bytes).
     */
    public synchronized Path runtime() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        if (runtime == null) {
            try {
                runtime = Files.createTempDirectory(RuntimeRoot.PATH, "cs-e2e-");
                Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString(READABLE_DIRECTORY));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            ShutdownCleanup.register(this);
        }
        return runtime;
    }

    /** A fresh directory under {@link #runtime()}, mode 0755. */
    public synchronized Path newRuntimeDirectory(String name) {
        Path dir = runtime().resolve(uniqueName(usedRuntimeNames, name));
        try {
            Files.createDirectory(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(READABLE_DIRECTORY));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A copy of {@code file} that every user may read (0644), in {@code dir} under {@link #runtime()}. */
    public Path stageReadable(Path file, Path dir) {
        if (!dir.startsWith(runtime())) {
            throw new IllegalArgumentException(dir + " is not under " + runtime());
        }
        try {
            Path copy = Files.copy(file, dir.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString(READABLE_FILE));
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The packaged jar, copied once into {@link #runtime()} with mode 0644, for processes run as another user. */
    public synchronized Path stagedJar() {
        if (stagedJar == null) {
            stagedJar = stageReadable(Prerequisites.chainsocksJar(), runtime());
        }
        return stagedJar;
    }

    /** Removes the runtime directory (logs and work files stay). Safe to call more than once. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (runtime == null) {
            return;
        }
        ShutdownCleanup.unregister(this);
        try (Stream<Path> walk = Files.walk(runtime)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            System.err.println("e2e: cannot delete " + runtime + ": " + e);
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
        return uniqueName(usedNames, name);
    }

    private static String uniqueName(Map<String, Integer> usedNames, String name) {
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        int n = usedNames.merge(safe, 1, Integer::sum);
        return n == 1 ? safe : safe + "-" + n;
    }

    @Override
    public String toString() {
        return "workspace " + testName + " (logs " + logs + ")";
    }

    /**
     * Where runtime directories go: the first of the JVM's temp directory, /tmp, /run and /dev/shm that every user
     * may traverse and that is not mounted {@code noexec}.
     */
    private static final class RuntimeRoot {
        static final Path PATH = choose();

        private static Path choose() {
            List<Path> candidates = Stream.of(System.getProperty("java.io.tmpdir"), "/tmp", "/run", "/dev/shm")
                    .map(Path::of).distinct().toList();
            for (Path candidate : candidates) {
                try {
                    Path real = candidate.toRealPath();
                    if (Files.isDirectory(real)
                            && Files.getPosixFilePermissions(real).contains(PosixFilePermission.OTHERS_EXECUTE)
                            && !mountOptions(real).map(options -> options.contains("noexec")).orElse(false)) {
                        return real;
                    }
                } catch (IOException e) {
                    // not usable: try the next
                }
            }
            throw new IllegalStateException("e2e: none of " + candidates + " is a directory every user may "
                    + "traverse without noexec, for the tests' runtime files");
        }

        /** The per-mount options ({@code rw,nosuid,noexec,...}) of the mount that holds {@code path}. */
        private static Optional<List<String>> mountOptions(Path path) throws IOException {
            Path best = null;
            List<String> options = null;
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] fields = line.split(" ");
                if (fields.length < 6) {
                    continue;
                }
                Path mountPoint = Path.of(unescape(fields[4]));
                // A later line for the same mount point is mounted over the earlier one.
                if (path.startsWith(mountPoint) && (best == null || mountPoint.getNameCount() >= best.getNameCount())) {
                    best = mountPoint;
                    options = List.of(fields[5].split(","));
                }
            }
            return Optional.ofNullable(options);
        }

        /** mountinfo writes space, tab, newline and backslash as an octal escape: {@code \040} is a space. */
        private static String unescape(String field) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < field.length(); i++) {
                char c = field.charAt(i);
                if (c == '\\' && i + 3 < field.length()) {
                    out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                    i += 3;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }
    }
}
