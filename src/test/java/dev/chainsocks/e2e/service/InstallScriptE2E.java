package dev.chainsocks.e2e.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import dev.chainsocks.testsupport.Prerequisite;
import java.io.File;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaging, end to end: {@code native-scripts/install.sh} stages the packaged jar, launcher, units, firewall
 * script and example configuration under a {@code DESTDIR}; {@code systemd-analyze verify --root} checks both
 * units against that tree; {@code native-scripts/uninstall.sh} removes exactly what was installed.
 *
 * <p>{@code systemd-analyze verify} resolves everything a unit names inside the root: the units it depends on
 * ({@code sysinit.target}, {@code network-online.target}, ...) and every {@code Exec*=} binary, including
 * {@code /usr/bin/java} and {@code /bin/kill}, which other packages (systemd, a JDK, procps) provide on a real
 * system. So before verifying, the test adds those to the staged tree from this machine: systemd's own unit
 * directory, the real java launcher and kill. Nothing of ours is copied that way; our files come only from
 * install.sh.
 *
 * <p>Needs {@code systemd-analyze} (Debian package systemd). Without it the test is skipped locally and fails
 * when {@code CI=true}.
 */
@Tag("e2e")
class InstallScriptE2E {
    private static final Path REPO = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    private static final List<String> OUR_UNITS = List.of("chainsocks.service", "chainsocks-firewall.service");

    /**
     * A diagnostic that systemd attributes to one unit: "/path/x.service:12: message" or "x.service: message".
     */
    private static final Pattern UNIT_LINE = Pattern.compile(
            "^(?:\\S*/)?([A-Za-z0-9:_.@\\\\-]+\\.(?:service|socket|target|mount|automount|swap|path|timer|slice"
                    + "|scope|device))(?::\\d+)?: .*");

    @TempDir
    Path destdir;

    @Test
    void installStagesTheFilesWithSaneModesAndUninstallRemovesThem() throws Exception {
        Path jar = packagedJar();

        Result install = run(List.of("bash", "native-scripts/install.sh", "--jar", jar.toString()), destdir);

        assertThat(install.exitCode()).as(install.output()).isZero();
        assertFile("usr/lib/chainsocks/chainsocks.jar", "rw-r--r--");
        assertThat(Files.mismatch(jar, destdir.resolve("usr/lib/chainsocks/chainsocks.jar")))
                .as("installed jar is the given jar").isEqualTo(-1L);
        assertFile("usr/bin/chainsocks", "rwxr-xr-x");
        String unitJvmFlags = unitJvmFlags();
        assertThat(unitJvmFlags).as("the unit sizes heap and direct memory itself, not from the machine's RAM")
                .contains("-Xmx").contains("-XX:MaxDirectMemorySize=").doesNotContain("RAMPercentage");
        assertThat(Files.readString(destdir.resolve("usr/bin/chainsocks")))
                .startsWith("#!/bin/sh\n")
                .contains("exec \"${JAVA:-java}\" ${JAVA_OPTS:-" + unitJvmFlags + "} -jar"
                        + " /usr/lib/chainsocks/chainsocks.jar \"$@\"");
        assertFile("usr/lib/chainsocks/firewall", "rwxr-xr-x");
        assertThat(Files.mismatch(REPO.resolve("native-scripts/firewall"),
                destdir.resolve("usr/lib/chainsocks/firewall"))).isEqualTo(-1L);
        assertFile("usr/lib/chainsocks/class-archive", "rwxr-xr-x");
        assertThat(unitJvmFlags).contains(" -XX:SharedArchiveFile=/var/cache/chainsocks/chainsocks.jsa ");
        assertThat(Files.readString(destdir.resolve("usr/lib/chainsocks/class-archive")))
                .as("the archive is recorded with the unit's flags, less the archive itself")
                .contains("\nJVM_FLAGS=\"" + unitJvmFlags.replace(" -XX:SharedArchiveFile="
                        + "/var/cache/chainsocks/chainsocks.jsa", "") + "\"\n")
                .contains("\nJAR=/usr/lib/chainsocks/chainsocks.jar\n")
                .contains("-jar \"$JAR\" warm-up");
        assertThat(install.output()).as("a DESTDIR install records no archive")
                .contains("no class-data archive recorded").doesNotContain("class-archive: recorded");
        for (String unit : OUR_UNITS) {
            assertFile("lib/systemd/system/" + unit, "rw-r--r--");
            assertThat(Files.mismatch(REPO.resolve("systemd/" + unit), destdir.resolve("lib/systemd/system/" + unit)))
                    .as(unit).isEqualTo(-1L);
        }
        assertFile("etc/chainsocks/chainsocks.toml", "rw-r-----");
        assertThat(Files.mismatch(REPO.resolve("systemd/chainsocks.toml"),
                destdir.resolve("etc/chainsocks/chainsocks.toml"))).isEqualTo(-1L);
        assertFile("etc/chainsocks/firewall.env", "rw-r--r--");
        assertThat(install.output()).contains("Nothing was enabled or started");
        assertThat(destdir.resolve("etc/systemd")).as("nothing enabled").doesNotExist();

        // An operator's configuration survives a second install.
        Path config = destdir.resolve("etc/chainsocks/chainsocks.toml");
        Files.writeString(config, "# edited by the operator\n");
        Result again = run(List.of("bash", "native-scripts/install.sh", "--jar", jar.toString()), destdir);
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(again.output()).contains("kept existing " + config);
        assertThat(Files.readString(config)).isEqualTo("# edited by the operator\n");

        verifyUnits();

        Result uninstall = run(List.of("bash", "native-scripts/uninstall.sh"), destdir);

        assertThat(uninstall.exitCode()).as(uninstall.output()).isZero();
        assertThat(destdir.resolve("usr/lib/chainsocks")).doesNotExist();
        assertThat(destdir.resolve("usr/bin/chainsocks")).doesNotExist();
        for (String unit : OUR_UNITS) {
            assertThat(destdir.resolve("lib/systemd/system/" + unit)).doesNotExist();
        }
        assertThat(config).as("configuration kept without --purge").exists();
        assertThat(destdir.resolve("usr/bin/java")).as("files of other packages are left alone").exists();
        assertThat(destdir.resolve("usr/lib/systemd/system/multi-user.target")).exists();

        Result purge = run(List.of("bash", "native-scripts/uninstall.sh", "--purge"), destdir);

        assertThat(purge.exitCode()).as(purge.output()).isZero();
        assertThat(destdir.resolve("etc/chainsocks")).doesNotExist();
    }

    /** Runs {@code systemd-analyze verify --root} on both units; no diagnostic may concern them. */
    private void verifyUnits() throws Exception {
        Path analyze = systemdAnalyze().orElseGet(() -> {
            String reason = "systemd-analyze is not installed (Debian package systemd); cannot verify the units";
            throw Prerequisite.missing(reason);
        });
        stageDependencies();
        List<String> command = new ArrayList<>(List.of(analyze.toString(), "verify", "--root=" + destdir));
        for (String unit : OUR_UNITS) {
            command.add(destdir.resolve("lib/systemd/system/" + unit).toString());
        }

        Result verify = run(command, null);

        List<String> ours = problemsAboutOurUnits(verify.output());
        assertThat(ours).as("systemd-analyze verify output:\n" + verify.output()).isEmpty();
        assertThat(verify.exitCode()).as(verify.output()).isZero();

        // The filter is not vacuous: a planted mistake in a copy of our unit is caught.
        Path planted = destdir.resolve("lib/systemd/system/chainsocks-selfcheck.service");
        Files.writeString(planted, Files.readString(destdir.resolve("lib/systemd/system/chainsocks.service"))
                .replace("[Service]\n", "[Service]\nNoSuchSetting=yes\n"));
        Result selfcheck = run(List.of(analyze.toString(), "verify", "--root=" + destdir, planted.toString()), null);
        assertThat(problemsAboutOurUnits(selfcheck.output())).as(selfcheck.output())
                .anyMatch(line -> line.contains("NoSuchSetting"));
        Files.delete(planted);
    }

    /**
     * Lines of {@code systemd-analyze verify} output that must fail the test: everything except diagnostics that
     * systemd attributes to some other unit. Those can only come from this machine's own unit files, pulled in as
     * dependencies ({@code sysinit.target} and what it needs), and say nothing about ours.
     */
    static List<String> problemsAboutOurUnits(String output) {
        List<String> problems = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            Matcher unit = UNIT_LINE.matcher(line);
            if (unit.matches() && !unit.group(1).startsWith("chainsocks")) {
                System.out.println("tolerated, about a unit of this machine: " + line);
                continue;
            }
            problems.add(line);
        }
        return problems;
    }

    /**
     * Adds what other packages provide on a real system: systemd's units, /usr/bin/java, /bin/kill. Each is copied
     * from this machine, as a regular file at the path our units name.
     */
    private void stageDependencies() throws IOException {
        Path systemUnits = Stream.of(Path.of("/usr/lib/systemd/system"), Path.of("/lib/systemd/system"))
                .filter(p -> Files.isRegularFile(p.resolve("sysinit.target")))
                .findFirst()
                .orElseThrow(() -> new AssertionError("systemd-analyze is installed but systemd's unit directory"
                        + " (with sysinit.target) is not in /usr/lib/systemd/system or /lib/systemd/system"));
        copyTree(systemUnits, destdir.resolve("usr/lib/systemd/system"));

        Path java = Files.isExecutable(Path.of("/usr/bin/java"))
                ? Path.of("/usr/bin/java").toRealPath()
                : Path.of(ProcessHandle.current().info().command().orElseThrow()).toRealPath();
        copyExecutable(java, destdir.resolve("usr/bin/java"));

        Path kill = Stream.of(Path.of("/bin/kill"), Path.of("/usr/bin/kill"))
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no /bin/kill on this machine (Debian package procps)"));
        copyExecutable(kill.toRealPath(), destdir.resolve("bin/kill"));
    }

    private static void copyExecutable(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Copies a directory, symbolic links as links (systemd aliases and masks are links). */
    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path target = to.resolve(from.relativize(file).toString());
                if (attrs.isSymbolicLink()) {
                    Files.createSymbolicLink(target, Files.readSymbolicLink(file));
                } else {
                    Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static Path packagedJar() {
        String property = System.getProperty("chainsocks.jar");
        assertThat(property).as("system property chainsocks.jar (set by failsafe)").isNotBlank();
        Path jar = Path.of(property);
        assertThat(jar).as("the packaged jar; run `mvn verify`, not the test alone").isRegularFile();
        return jar;
    }

    private void assertFile(String relative, String permissions) throws IOException {
        Path path = destdir.resolve(relative);
        assertThat(path).as(relative).isRegularFile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)))
                .as("mode of " + relative).isEqualTo(permissions);
    }

    private static Optional<Path> systemdAnalyze() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/bin";
        return Stream.of(path.split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, "systemd-analyze"))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private record Result(int exitCode, String output) {
    }

    /** Runs a command in the source tree, stdout and stderr together; with DESTDIR set when given. */
    private static Result run(List<String> command, Path stagingRoot) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(REPO.toFile()).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.put("LC_ALL", "C");
        env.put("SYSTEMD_COLORS", "0");
        env.put("SYSTEMD_PAGER", "cat");
        env.remove("PREFIX");
        env.remove("UNITDIR");
        if (stagingRoot != null) {
            env.put("DESTDIR", stagingRoot.toString());
        } else {
            env.remove("DESTDIR");
        }
        Path log = Files.createTempFile("chainsocks-install-e2e", ".log");
        try {
            Process process = builder.redirectOutput(log.toFile()).start();
            process.getOutputStream().close();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                fail("timed out after 120 s: " + String.join(" ", command) + "\n" + Files.readString(log));
            }
            return new Result(process.exitValue(), Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The JVM flags of the unit's ExecStart= line: between /usr/bin/java and the jffi directory. */
    private static String unitJvmFlags() throws IOException {
        String execStart = Files.readAllLines(REPO.resolve("systemd/chainsocks.service")).stream()
                .filter(line -> line.startsWith("ExecStart=/usr/bin/java ")).findFirst()
                .orElseThrow(() -> new AssertionError("no ExecStart=/usr/bin/java in systemd/chainsocks.service"));
        Matcher flags = Pattern.compile("^ExecStart=/usr/bin/java (.*) -Djffi\\.extract\\.dir=\\S+ -jar ")
                .matcher(execStart);
        assertThat(flags.find()).as(execStart).isTrue();
        return flags.group(1);
    }
}
