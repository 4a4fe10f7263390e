package dev.chainsocks.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/**
 * What an end-to-end test needs from the machine: root (for namespaces and iptables), the programs it runs, and the
 * packaged jar.
 *
 * <p>On a developer machine without them the test is skipped with a clear message. In CI ({@code CI=true}) a missing
 * prerequisite is a failure, because a skipped e2e suite there would look green while proving nothing.
 */
public final class Prerequisites {

    /** Command name to the Debian package that provides it. Pseudo-command "python3-socks" is the PySocks module. */
    private static final Map<String, String> PACKAGES = new LinkedHashMap<>();

    static {
        PACKAGES.put("ip", "iproute2");
        PACKAGES.put("ss", "iproute2");
        PACKAGES.put("iptables", "iptables");
        PACKAGES.put("ip6tables", "iptables");
        PACKAGES.put("iptables-save", "iptables");
        PACKAGES.put("nft", "nftables");
        PACKAGES.put("curl", "curl");
        PACKAGES.put("ncat", "ncat");
        PACKAGES.put("socat", "socat");
        PACKAGES.put("python3", "python3");
        PACKAGES.put("python3-socks", "python3-socks");
        PACKAGES.put("danted", "dante-server");
        PACKAGES.put("sshd", "openssh-server");
        PACKAGES.put("ssh", "openssh-client");
        PACKAGES.put("ssh-keygen", "openssh-client");
        PACKAGES.put("microsocks", "microsocks");
        PACKAGES.put("proxychains4", "proxychains4");
        PACKAGES.put("redsocks", "redsocks");
        PACKAGES.put("tinyproxy", "tinyproxy");
        PACKAGES.put("sysctl", "procps");
        PACKAGES.put("ps", "procps");
        PACKAGES.put("useradd", "passwd");
        PACKAGES.put("userdel", "passwd");
        PACKAGES.put("chpasswd", "passwd");
        PACKAGES.put("setpriv", "util-linux");
        PACKAGES.put("oidentd", "oidentd");
        PACKAGES.put("plink", "putty-tools");
        PACKAGES.put("puttygen", "putty-tools");
        PACKAGES.put("bash", "bash");
    }

    /** The Python the harness scripts run under: Debian's, where python3-socks installs, not a pyenv shim. */
    public static final String PYTHON = "/usr/bin/python3";

    private static final List<String> SEARCH_PATH = searchPath();

    private Prerequisites() {
    }

    /**
     * Checks root, {@code ip} and the given commands. Aborts the test (or fails it in CI) naming everything missing and
     * the apt packages that provide it.
     */
    public static void require(String... commands) {
        List<String> missing = new ArrayList<>();
        if (!isRoot()) {
            missing.add("root (uid 0) for network namespaces and iptables");
        }
        List<String> wanted = new ArrayList<>(List.of("ip", "bash"));
        wanted.addAll(List.of(commands));
        for (String command : wanted.stream().distinct().toList()) {
            if (!isAvailable(command)) {
                missing.add(command + " (apt package " + PACKAGES.getOrDefault(command, "?") + ")");
            }
        }
        report(missing);
    }

    /** The packaged jar named by the system property {@code chainsocks.jar}, which failsafe sets. */
    public static Path chainsocksJar() {
        String property = System.getProperty("chainsocks.jar");
        Path jar = property == null ? TestWorkspace.targetDirectory().resolve("chainsocks.jar") : Path.of(property);
        if (!Files.isRegularFile(jar)) {
            report(List.of("the packaged jar " + jar + " (run the e2e tests with `mvn verify`, which packages it first)"));
        }
        return jar.toAbsolutePath();
    }

    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    public static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("Uid:"))
                    .map(line -> line.split("\\s+")[1])
                    .anyMatch("0"::equals);
        } catch (IOException e) {
            return false;
        }
    }

    /** Full path of a command on PATH or in the sbin directories root normally has. */
    public static Optional<Path> locate(String command) {
        return SEARCH_PATH.stream()
                .map(dir -> Path.of(dir, command))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private static boolean isAvailable(String command) {
        if (command.equals("python3")) {
            return Files.isExecutable(Path.of(PYTHON));
        }
        if (command.equals("python3-socks")) {
            return Files.isExecutable(Path.of(PYTHON))
                    && Command.run(List.of(PYTHON, "-c", "import socks"), Command.DEFAULT_TIMEOUT).succeeded();
        }
        return locate(command).isPresent();
    }

    private static void report(List<String> missing) {
        if (missing.isEmpty()) {
            return;
        }
        String what = String.join(", ", missing);
        if (isCi()) {
            throw new AssertionError("CI=true but the e2e prerequisites are missing: " + what
                    + ". .ci/run installs them with apt-get.");
        }
        Assumptions.abort("e2e tests need root and network namespaces; run as root or in CI. Missing: " + what);
    }

    private static List<String> searchPath() {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        Stream.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
                .filter(dir -> !dirs.contains(dir))
                .forEach(dirs::add);
        return List.copyOf(dirs);
    }

    static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
