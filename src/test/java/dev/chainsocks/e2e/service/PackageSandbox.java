package dev.chainsocks.e2e.service;

import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.TestWorkspace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A throwaway copy of this machine to install a package into: each command runs in a new mount and PID namespace
 * ({@code unshare --mount --pid --fork --mount-proc}) where {@code /usr}, {@code /etc} and {@code /var} are overlay
 * mounts whose upper layers live in the test's work directory. dpkg, apt, adduser and the maintainer scripts see
 * and change a real, complete system (Debian's own java, adduser, man-db, systemd's units), but every change lands
 * in the upper layers; the machine's own files, its dpkg database and its users are never written. The next
 * command mounts the same layers again, so the sandbox keeps its state from one command to the next.
 *
 * <p>What else keeps the real system out of reach: {@code /run/systemd} is covered by an empty tmpfs, so maintainer
 * scripts see no running systemd and never talk to the machine's (no daemon-reload, no stop); the PID namespace
 * hides the machine's processes, so removing a user is not refused because a chainsocks installed on the machine
 * runs under the same uid. On a usr-merged system {@code /bin}, {@code /sbin} and {@code /lib} are links into
 * {@code /usr} and come along.
 */
final class PackageSandbox implements AutoCloseable {

    private static final List<String> LAYERED = List.of("usr", "etc", "var");

    private final Path root;
    private final Path script;

    private PackageSandbox(Path root, Path script) {
        this.root = root;
        this.script = script;
    }

    static PackageSandbox create(TestWorkspace workspace) throws IOException {
        Path root = workspace.newDirectory("sandbox");
        StringBuilder mounts = new StringBuilder("set -eu\n");
        for (String dir : LAYERED) {
            Path upper = Files.createDirectories(root.resolve("upper").resolve(dir));
            Path work = Files.createDirectories(root.resolve("work").resolve(dir));
            mounts.append("mount -t overlay overlay -o lowerdir=/").append(dir)
                    .append(",upperdir=").append(upper).append(",workdir=").append(work)
                    .append(" /").append(dir).append('\n');
        }
        mounts.append("if [ -d /run/systemd ]; then mount -t tmpfs -o mode=0755 tmpfs /run/systemd; fi\n")
                .append("exec \"$@\"\n");
        Path script = Files.writeString(root.resolve("enter.sh"), mounts.toString());
        return new PackageSandbox(root, script);
    }

    /** {@code command} as a command line that runs it inside the sandbox. */
    List<String> wrap(List<String> command) {
        List<String> full = new ArrayList<>(List.of("unshare", "--mount", "--pid", "--fork", "--mount-proc",
                "--propagation", "private", "--", "bash", script.toString()));
        full.addAll(command);
        return full;
    }

    Command.Result run(Duration timeout, String... command) {
        return Command.run(wrap(List.of(command)), timeout);
    }

    /** Runs a bash script inside; fails with both outputs unless it exits 0. Returns stdout. */
    String script(String text) {
        return Command.run(wrap(List.of("bash", "-c", "set -euo pipefail\n" + text)), Duration.ofSeconds(60))
                .requireSuccess().stdout();
    }

    /** The upper layer of {@code /usr}, {@code /etc} or {@code /var}: what the sandbox changed there. */
    Path upper(String dir) {
        return root.resolve("upper").resolve(dir);
    }

    /**
     * Files, directories and links in the sandbox's layers whose path contains {@code needle}, relative to
     * {@code /}. Whiteouts (character devices that record a deletion of a file of this machine) are not counted.
     */
    List<String> addedPaths(String needle) throws IOException {
        List<String> found = new ArrayList<>();
        for (String dir : LAYERED) {
            Path upper = upper(dir);
            try (Stream<Path> walk = Files.walk(upper)) {
                walk.filter(path -> !path.equals(upper))
                        .filter(path -> !isWhiteout(path))
                        .filter(path -> upper.relativize(path).toString().contains(needle))
                        .map(path -> "/" + dir + "/" + upper.relativize(path))
                        .sorted()
                        .forEach(found::add);
            }
        }
        return found;
    }

    private static boolean isWhiteout(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the layers. */
    @Override
    public void close() {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the sandbox " + root, e);
        }
    }

    @Override
    public String toString() {
        return "package sandbox " + root;
    }
}
