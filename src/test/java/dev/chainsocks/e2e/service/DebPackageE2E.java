package dev.chainsocks.e2e.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import dev.chainsocks.testsupport.Prerequisite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The Debian package, as an operator meets it: {@code apt-get install ./chainsocks_*.deb}, the files, the user, the
 * manual pages and completion, {@code systemd-analyze verify} on the installed units, the service started with the
 * shipped configuration exactly as its unit starts it until it tells systemd READY=1, then {@code remove} (the
 * configuration stays) and {@code purge} (nothing of the package stays). lintian finds nothing.
 *
 * <p>The package is installed into a {@link PackageSandbox}: a real apt and dpkg on a copy-on-write view of this
 * machine, so the test runs the same beside a chainsocks already installed here (by install.sh or an earlier
 * package), which it neither replaces nor stops. The test checks that at the end.
 */
@Tag("e2e")
class DebPackageE2E {

    private static final Duration APT = Duration.ofMinutes(5);
    private static final Duration START = Duration.ofSeconds(60);
    private static final String CONFIG = "/etc/chainsocks/chainsocks.toml";

    private TestWorkspace workspace;
    private PackageSandbox sandbox;
    private Path deb;

    @BeforeEach
    void setUp(TestInfo test) throws IOException {
        Prerequisites.require("unshare", "setpriv", "ss");
        for (String[] tool : new String[][] {{"apt-get", "apt"}, {"dpkg-deb", "dpkg"},
                {"systemd-analyze", "systemd"}, {"man", "man-db"}, {"lintian", "lintian"}}) {
            Prerequisite.require(Prerequisites.locate(tool[0]).isPresent(),
                    tool[0] + " (Debian package " + tool[1] + ")");
        }
        deb = builtPackage();
        workspace = TestWorkspace.forTest("DebPackageE2E." + test.getTestMethod().orElseThrow().getName());
    }

    @AfterEach
    void tearDown() {
        if (sandbox != null) {
            sandbox.close();
        }
        workspace.close();
    }

    @Test
    void installsRunsRemovesAndPurgesWithoutTouchingThisMachine() throws Exception {
        MachineState before = MachineState.now();
        sandbox = PackageSandbox.create(workspace);
        forgetAnyInstalledChainsocks();

        apt("install", "--no-install-recommends", deb.toString());

        assertInstalledFiles();
        String passwd = sandbox.script("getent passwd chainsocks");
        String[] user = passwd.strip().split(":");
        assertThat(Integer.parseInt(user[2])).as("a system uid: " + passwd).isLessThan(1000);
        assertThat(user[5]).isEqualTo("/nonexistent");
        assertThat(user[6]).isEqualTo("/usr/sbin/nologin");
        assertThat(sandbox.script("id -gn chainsocks").strip()).isEqualTo("chainsocks");
        assertThat(Files.mismatch(Prerequisites.chainsocksJar(),
                sandbox.upper("usr").resolve("lib/chainsocks/chainsocks.jar")))
                .as("the packaged jar is the one just built").isEqualTo(-1L);

        String version = sandbox.script("chainsocks --version");
        assertThat(version).startsWith("chainsocks " + System.getProperty("chainsocks.version") + "\n")
                .containsPattern("(?m)^Java \\d+.* \\(.+\\) on Linux ");

        assertThat(sandbox.script("man -w chainsocks").strip()).isEqualTo("/usr/share/man/man1/chainsocks.1.gz");
        assertThat(sandbox.script("man -w 5 chainsocks.toml").strip())
                .isEqualTo("/usr/share/man/man5/chainsocks.toml.5.gz");
        String page = sandbox.script("MANWIDTH=100 man -P cat -l /usr/share/man/man1/chainsocks.1.gz 2>&1");
        for (String command : List.of("run", "check", "rules", "status", "connections", "reload", "socks-server")) {
            assertThat(page).as("chainsocks(1) has a section for " + command)
                    .containsPattern("(?m)^   chainsocks " + command + "$");
        }
        assertThat(sandbox.script("bash -c 'source /usr/share/bash-completion/completions/chainsocks"
                + " && complete -p chainsocks'")).contains(" chainsocks");

        // On an installed system the units verify as they are: systemd's own units and /usr/bin/java are there.
        Command.Result verify = sandbox.run(Duration.ofSeconds(60), "systemd-analyze", "verify",
                "chainsocks.service", "chainsocks-firewall.service");
        String verifyOutput = verify.stdout() + verify.stderr();
        assertThat(InstallScriptE2E.problemsAboutOurUnits(verifyOutput)).as(verifyOutput).isEmpty();
        assertThat(verify.exitCode()).as(verifyOutput).isZero();

        classArchiveIsRecordedAndRecordedAgainWhenAJvmChanges();
        serviceStartsWithTheShippedConfiguration();

        apt("remove");
        assertThat(sandbox.script("stat -c '%n %a' " + CONFIG).strip()).as("remove keeps the configuration")
                .isEqualTo(CONFIG + " 640");
        assertThat(sandbox.run(Duration.ofSeconds(30), "test", "-e", "/var/cache/chainsocks").exitCode())
                .as("remove takes the class-data archive").isNotZero();
        assertThat(sandbox.run(Duration.ofSeconds(30), "test", "-e", "/usr/bin/chainsocks").exitCode()).isNotZero();
        assertThat(sandbox.script("getent passwd chainsocks || true")).as("remove keeps the user").isNotBlank();

        apt("purge");
        assertThat(sandbox.script("getent passwd chainsocks || true; getent group chainsocks || true;"
                + " dpkg-statoverride --list " + CONFIG + " || true")).as("purge removes user, group, statoverride")
                .isBlank();
        assertThat(sandbox.run(Duration.ofSeconds(30), "dpkg-query", "-W", "chainsocks").exitCode())
                .as("dpkg forgot the package").isNotZero();
        // Left to purge: nothing named chainsocks, but man-db's cache of formatted pages, which man-db cleans.
        assertThat(sandbox.addedPaths("chainsocks")).as("left after purge")
                .allMatch(path -> path.startsWith("/var/cache/man/"));

        assertThat(MachineState.now()).as("this machine's chainsocks, dpkg database entry and user").isEqualTo(before);
    }

    @Test
    void lintianFindsNothingBeyondTheJustifiedOverrides() {
        Command.Result lintian = Command.run(List.of("lintian", "--fail-on", "error,warning", deb.toString()),
                Duration.ofMinutes(5));

        String output = lintian.stdout() + lintian.stderr();
        assertThat(output.lines().filter(line -> line.matches("^[EW]: .*")).toList()).as(output).isEmpty();
        assertThat(lintian.exitCode()).as(output).isZero();
    }

    /**
     * Starts chainsocks as chainsocks.service would, from the installed unit's own ExecStartPre= and ExecStart=
     * lines, as user chainsocks with CAP_NET_ADMIN, in a network namespace and with its own runtime directory and
     * notify socket; it must report READY=1 with both listeners of the shipped configuration bound, and STOPPING=1
     * and exit 0 on SIGTERM.
     */
    private void serviceStartsWithTheShippedConfiguration() throws Exception {
        String unit = sandbox.script("cat /lib/systemd/system/chainsocks.service");
        Path runtime = workspace.newRuntimeDirectory("run");
        Path serviceDirectory = runtime.resolve("chainsocks");
        String uid = sandbox.script("id -u chainsocks").strip();
        String gid = sandbox.script("id -g chainsocks").strip();
        // What RuntimeDirectory=chainsocks chainsocks/jffi and RuntimeDirectoryMode=0750 make.
        for (Path dir : List.of(serviceDirectory, serviceDirectory.resolve("jffi"))) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    "rwxr-x---")));
            Command.run(List.of("chown", uid + ":" + gid, dir.toString()), Command.DEFAULT_TIMEOUT).requireSuccess();
        }
        List<String> asService = List.of("env", "RUNTIME_DIRECTORY=" + serviceDirectory + ":"
                        + serviceDirectory.resolve("jffi"),
                "setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--inh-caps=+net_admin",
                "--ambient-caps=+net_admin", "--");

        try (Netns netns = Netns.create("deb", workspace);
                NotifySocketReceiver systemd = NotifySocketReceiver.bind(runtime.resolve("notify"))) {
            Files.setPosixFilePermissions(systemd.path(), PosixFilePermissions.fromString("rwxrwxrwx"));

            List<String> check = new ArrayList<>(asService);
            check.addAll(execLine(unit, "ExecStartPre", runtime));
            Command.Result checked = Command.run(sandbox.wrap(netns.wrap(check)), START);
            assertThat(checked.exitCode()).as(checked.describe()).isZero();

            List<String> run = new ArrayList<>(List.of(asService.get(0), "NOTIFY_SOCKET=" + systemd.path()));
            run.addAll(asService.subList(1, asService.size()));
            run.addAll(execLine(unit, "ExecStart", runtime));
            Path log = workspace.newLogFile("chainsocks-service");
            Process service = new ProcessBuilder(sandbox.wrap(netns.wrap(run)))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            try {
                int ready = systemd.awaitMessage(0, "READY=1", START);
                assertThat(netns.isListening("0.0.0.0", 12345)).as("listener 0.0.0.0:12345").isTrue();
                assertThat(netns.isListening("::", 12345)).as("listener [::]:12345").isTrue();
                assertThat(serviceDirectory.resolve("control.sock")).as("control socket in RUNTIME_DIRECTORY")
                        .exists();

                List<Long> pids = netns.pids();
                assertThat(pids).as("the JVM is the only process in the namespace").hasSize(1);
                // Seen from here, outside the sandbox's mounts, the path may be shown relative to its /var.
                assertThat(Files.readString(Path.of("/proc", pids.get(0).toString(), "maps")))
                        .as("the service maps the class-data archive postinst recorded")
                        .contains("/chainsocks/chainsocks.jsa");
                assertThat(Files.readString(log)).as("no warning about the archive")
                        .doesNotContain("shared archive").doesNotContain("[warning]");
                Command.run(List.of("kill", "-TERM", Long.toString(pids.get(0))), Command.DEFAULT_TIMEOUT)
                        .requireSuccess();
                systemd.awaitMessage(ready + 1, "STOPPING=1", START);
                assertThat(service.waitFor(60, TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
                assertThat(service.exitValue()).as(Files.readString(log)).isZero();
            } finally {
                service.destroyForcibly();
                service.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * postinst recorded the class-data archive the unit names; a JVM package touching /usr/lib/jvm fires the
     * trigger, and postinst records it again.
     */
    private void classArchiveIsRecordedAndRecordedAgainWhenAJvmChanges() {
        String archive = "/var/cache/chainsocks/chainsocks.jsa";
        assertThat(sandbox.script("stat -c '%n %a %U:%G' " + archive).strip()).isEqualTo(archive + " 644 root:root");
        assertThat(sandbox.script("cat /lib/systemd/system/chainsocks.service"))
                .contains(" -XX:SharedArchiveFile=" + archive + " ");

        sandbox.script("rm " + archive);
        String triggered = sandbox.script("dpkg-trigger --no-await /usr/lib/jvm && dpkg --triggers-only --pending");
        assertThat(triggered).contains("class-archive: recorded " + archive);
        assertThat(sandbox.script("stat -c '%n %a' " + archive).strip()).isEqualTo(archive + " 644");

        // An upgrade (here the same version again) leaves the new jar's archive, recorded by postinst, in place of
        // the old one (a marker file here). prerm's removal in between is not observable from outside dpkg.
        sandbox.script("echo stale > " + archive);
        apt("install", "--reinstall", "--no-install-recommends", deb.toString());
        assertThat(Long.parseLong(sandbox.script("stat -c %s " + archive).strip()))
                .as("a new archive of some MiB, not the 6 bytes of the old file").isGreaterThan(1 << 20);
        assertThat(sandbox.script("stat -c '%n %a' " + archive).strip()).isEqualTo(archive + " 644");
    }

    /** An Exec*= line of the unit as a command, with %t (the runtime directory root) resolved. */
    private static List<String> execLine(String unit, String key, Path runtime) {
        String line = unit.lines().filter(l -> l.startsWith(key + "=")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + "= in the installed unit"));
        return Arrays.asList(line.substring(key.length() + 1).replace("%t", runtime.toString()).split(" "));
    }

    private void assertInstalledFiles() {
        String modes = sandbox.script("stat -c '%n %a %U:%G' /usr/lib/chainsocks/chainsocks.jar /usr/bin/chainsocks"
                + " /usr/lib/chainsocks/firewall /usr/lib/chainsocks/class-archive"
                + " /lib/systemd/system/chainsocks.service"
                + " /lib/systemd/system/chainsocks-firewall.service " + CONFIG + " /etc/chainsocks/firewall.env"
                + " /usr/share/man/man1/chainsocks.1.gz /usr/share/man/man5/chainsocks.toml.5.gz"
                + " /usr/share/bash-completion/completions/chainsocks /usr/share/doc/chainsocks/copyright"
                + " /usr/share/doc/chainsocks/changelog.Debian.gz");
        assertThat(modes.lines().toList()).containsExactly(
                "/usr/lib/chainsocks/chainsocks.jar 644 root:root",
                "/usr/bin/chainsocks 755 root:root",
                "/usr/lib/chainsocks/firewall 755 root:root",
                "/usr/lib/chainsocks/class-archive 755 root:root",
                "/lib/systemd/system/chainsocks.service 644 root:root",
                "/lib/systemd/system/chainsocks-firewall.service 644 root:root",
                CONFIG + " 640 root:chainsocks",
                "/etc/chainsocks/firewall.env 644 root:root",
                "/usr/share/man/man1/chainsocks.1.gz 644 root:root",
                "/usr/share/man/man5/chainsocks.toml.5.gz 644 root:root",
                "/usr/share/bash-completion/completions/chainsocks 644 root:root",
                "/usr/share/doc/chainsocks/copyright 644 root:root",
                "/usr/share/doc/chainsocks/changelog.Debian.gz 644 root:root");
        assertThat(sandbox.script("dpkg-query --showformat='${Conffiles}' -W chainsocks")).contains(CONFIG).contains("/etc/chainsocks/firewall.env");
        assertThat(sandbox.script("systemctl is-enabled chainsocks.service chainsocks-firewall.service || true")
                .lines().toList()).as("nothing enabled").containsExactly("disabled", "disabled");
    }

    /**
     * Makes the sandbox a machine without chainsocks, whatever this machine has: a package is purged, files of
     * install.sh and the user are removed. All of it inside the sandbox's layers.
     */
    private void forgetAnyInstalledChainsocks() {
        sandbox.script("""
                if dpkg-query -W -f='${Status}' chainsocks 2>/dev/null | grep -q installed; then
                    dpkg --purge chainsocks >/dev/null
                fi
                rm -rf /usr/lib/chainsocks /usr/bin/chainsocks /etc/chainsocks \\
                    /lib/systemd/system/chainsocks.service /lib/systemd/system/chainsocks-firewall.service
                if getent passwd chainsocks >/dev/null; then userdel chainsocks; fi
                if getent group chainsocks >/dev/null; then groupdel chainsocks; fi
                """);
    }

    private void apt(String action, String... args) {
        List<String> command = new ArrayList<>(List.of("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q",
                "-o", "Dpkg::Use-Pty=0", action));
        command.addAll(List.of(args));
        if (args.length == 0) {
            command.add("chainsocks");
        }
        Command.Result result = Command.run(sandbox.wrap(command), APT);
        assertThat(result.exitCode()).as(result.describe()).isZero();
        // Notes (N:) such as apt reading a local file as root, and debconf without apt-utils, are not complaints.
        assertThat(result.stderr().lines().filter(line -> !line.isBlank() && !line.startsWith("N: ")
                        && !line.startsWith("debconf: ")).toList())
                .as("apt/dpkg/maintainer script complaints:\n" + result.describe()).isEmpty();
    }

    private static Path builtPackage() throws IOException {
        Path target = TestWorkspace.targetDirectory();
        try (Stream<Path> files = Files.list(target)) {
            List<Path> debs = files.filter(p -> p.getFileName().toString().matches("chainsocks_.*_all\\.deb"))
                    .toList();
            assertThat(debs).as("the package built by `mvn package` in " + target).hasSize(1);
            return debs.get(0);
        }
    }

    /** What of chainsocks this machine itself has, to show the test left it alone. */
    private record MachineState(String dpkgStatus, String launcher, String user, String config) {
        static MachineState now() throws IOException {
            return new MachineState(
                    Command.run(List.of("dpkg-query", "-W", "-f=${Status} ${Version}", "chainsocks"),
                            Command.DEFAULT_TIMEOUT).stdout(),
                    describe(Path.of("/usr/bin/chainsocks")),
                    Command.run(List.of("getent", "passwd", "chainsocks"), Command.DEFAULT_TIMEOUT).stdout(),
                    describe(Path.of(CONFIG)));
        }

        private static String describe(Path file) throws IOException {
            return Files.exists(file) ? Files.size(file) + " bytes, modified " + Files.getLastModifiedTime(file)
                    : "absent";
        }
    }
}
