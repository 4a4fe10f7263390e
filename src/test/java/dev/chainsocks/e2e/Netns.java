package dev.chainsocks.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A Linux network namespace that a test created, with the processes it started inside.
 *
 * <p>Names are {@code cs-<role>-<jvm pid>-<n>}, so parallel runs and leftovers of killed runs never collide, and
 * {@link #PREFIX} plus the pid finds everything this JVM made. Each namespace gets its own {@code /etc/hosts} and
 * {@code /etc/resolv.conf} through {@code /etc/netns/<name>/} (bind-mounted by {@code ip netns exec}): names resolve
 * only from the hosts file and no DNS query goes anywhere but the namespace's own loopback.
 */
public final class Netns implements AutoCloseable {

    public static final String PREFIX = "cs-";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Duration SPAWN_PORT_TIMEOUT = Duration.ofSeconds(20);

    private final String name;
    private final TestWorkspace workspace;
    private final List<ManagedProcess> processes = Collections.synchronizedList(new ArrayList<>());
    private boolean closed;

    private Netns(String name, TestWorkspace workspace) {
        this.name = name;
        this.workspace = workspace;
    }

    /** Creates {@code cs-<role>-<pid>-<n>} with {@code lo} up. */
    public static Netns create(String role, TestWorkspace workspace) {
        String name = PREFIX + role + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        Netns netns = new Netns(name, workspace);
        Path etc = netns.etcDirectory();
        Prerequisites.createDirectories(etc);
        workspace.writeFile(etc, "hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        workspace.writeFile(etc, "resolv.conf", "# e2e namespace: no DNS server, names come from /etc/hosts\n"
                + "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
        Command.run(List.of("ip", "netns", "add", name), Command.DEFAULT_TIMEOUT).requireSuccess();
        ShutdownCleanup.register(netns);
        netns.exec("ip", "link", "set", "lo", "up");
        return netns;
    }

    /** Names of all namespaces on the machine that this JVM created and has not deleted. */
    public static List<String> leftoversOfThisRun() {
        String mine = PREFIX;
        String pidPart = "-" + ProcessHandle.current().pid() + "-";
        return Command.run(List.of("ip", "netns", "list"), Command.DEFAULT_TIMEOUT).requireSuccess().stdout()
                .lines()
                .map(line -> line.split("\\s+")[0])
                .filter(ns -> ns.startsWith(mine) && ns.contains(pidPart))
                .toList();
    }

    public String name() {
        return name;
    }

    public TestWorkspace workspace() {
        return workspace;
    }

    /** {@code ip netns exec <name> <cmd...>} as a list, for callers that build their own process. */
    public List<String> wrap(List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(command);
        return full;
    }

    /** Runs a command inside to completion (30 s deadline); returns stdout, throws with both outputs on failure. */
    public String exec(String... command) {
        return run(Command.DEFAULT_TIMEOUT, command).requireSuccess().stdout();
    }

    /** Runs a command inside and returns its result whatever the exit code. */
    public Command.Result run(Duration timeout, String... command) {
        return Command.run(wrap(List.of(command)), timeout);
    }

    /** Runs a bash script inside with {@code set -euo pipefail}; returns stdout. Used for generated rule sets. */
    public String execScript(String script) {
        return Command.run(wrap(List.of("bash", "-c", "set -euo pipefail\n" + script)), Duration.ofSeconds(60))
                .requireSuccess().stdout();
    }

    public void sysctl(String key, String value) {
        exec("sysctl", "-q", "-w", key + "=" + value);
    }

    /**
     * Starts a long-running program inside, its output in {@code target/e2e-logs/<test>/<name>.log}. It is stopped
     * when this namespace closes, if the test has not stopped it before.
     */
    public ManagedProcess spawn(String processName, String... command) {
        return spawn(processName, List.of(command));
    }

    public ManagedProcess spawn(String processName, List<String> command) {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
        Path log = workspace.newLogFile(processName);
        List<String> full = wrap(command);
        ProcessBuilder builder = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Command.withoutProxyVariables(builder);
        try {
            Files.writeString(log, "# " + String.join(" ", full) + "\n");
            builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            ManagedProcess process = new ManagedProcess(processName, this, builder.start(), log, full);
            processes.add(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", full), e);
        }
    }

    /** Spawns and waits until the program listens on {@code endpoint}. */
    public ManagedProcess spawnListening(String processName, Endpoint endpoint, List<String> command) {
        return spawn(processName, command).waitForPort(endpoint, SPAWN_PORT_TIMEOUT);
    }

    /**
     * True if a TCP socket inside listens on {@code host:port} or on a wildcard address covering it. Uses {@code ss}
     * so no connection is made.
     */
    public boolean isListening(String host, int port) {
        Command.Result result = run(Command.DEFAULT_TIMEOUT, "ss", "-Hltn", "sport = :" + port);
        if (!result.succeeded()) {
            return false;
        }
        boolean v6 = host.contains(":");
        return result.stdout().lines()
                .map(line -> line.trim().split("\\s+"))
                .filter(fields -> fields.length >= 4)
                .map(fields -> fields[3].substring(0, fields[3].lastIndexOf(':')).replaceAll("%.*$", ""))
                .anyMatch(local -> local.equals(v6 ? "[" + host + "]" : host)
                        || local.equals("*")
                        || local.equals("[::]")
                        || (!v6 && local.equals("0.0.0.0"))
                        || (!v6 && local.equals("[::ffff:" + host + "]")));
    }

    /** Tries a TCP connection from inside (bash {@code /dev/tcp}); this one does show up in the peer's logs. */
    public boolean canConnect(String host, int port) {
        return run(Duration.ofSeconds(5), "bash", "-c", "exec 3<>/dev/tcp/" + host + "/" + port).succeeded();
    }

    /** Adds a line to this namespace's own {@code /etc/hosts}, seen by processes started afterwards. */
    public void addHost(String hostname, String address) {
        try {
            Files.writeString(etcDirectory().resolve("hosts"), address + "\t" + hostname + "\n",
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** PIDs of every process currently inside, whoever started it ({@code ip netns pids}). */
    public List<Long> pids() {
        Command.Result result = Command.run(List.of("ip", "netns", "pids", name), Command.DEFAULT_TIMEOUT);
        if (!result.succeeded()) {
            return List.of();
        }
        return result.stdout().lines().map(String::trim).filter(s -> !s.isEmpty()).map(Long::valueOf).toList();
    }

    /**
     * Stops the processes this namespace started (in reverse order); then any process still inside — children those
     * daemons forked, which can only have been started by this test since the namespace is ours — by its PID; then
     * deletes the namespace and its {@code /etc/netns} files.
     */
    public void stopProcesses() {
        List<ManagedProcess> started;
        synchronized (processes) {
            started = new ArrayList<>(processes);
        }
        Collections.reverse(started);
        for (ManagedProcess process : started) {
            process.stop();
        }
        List<Long> leftovers = pids();
        if (!leftovers.isEmpty()) {
            System.err.println("e2e: stopping processes left in " + name + ": " + leftovers);
            leftovers.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy));
            long deadline = System.nanoTime() + ManagedProcess.STOP_GRACE.toNanos();
            while (!pids().isEmpty() && System.nanoTime() < deadline) {
                ManagedProcess.pause(100);
            }
            pids().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stopProcesses();
        } finally {
            Command.Result deleted = Command.run(List.of("ip", "netns", "delete", name), Command.DEFAULT_TIMEOUT);
            if (!deleted.succeeded()) {
                System.err.println("e2e: " + deleted.describe());
            }
            deleteTree(etcDirectory());
            ShutdownCleanup.unregister(this);
        }
    }

    private Path etcDirectory() {
        return Path.of("/etc/netns", name);
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            System.err.println("e2e: cannot delete " + dir + ": " + e);
        }
    }

    /** The first IPv4 or IPv6 global address on an interface inside, if any. */
    public Optional<String> address(String iface, boolean ipv6) {
        String out = exec("ip", "-o", ipv6 ? "-6" : "-4", "addr", "show", "dev", iface, "scope", "global");
        return out.lines().map(line -> line.trim().split("\\s+"))
                .filter(fields -> fields.length >= 4)
                .map(fields -> fields[3].split("/")[0])
                .findFirst();
    }

    @Override
    public String toString() {
        return "netns " + name;
    }
}
