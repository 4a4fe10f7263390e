package dev.chainsocks.service;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.DnsConfig;
import dev.chainsocks.config.MetricsConfig;
import dev.chainsocks.control.ControlServer;
import dev.chainsocks.control.ControlSocketLocation;
import dev.chainsocks.control.SystemdNotifier;
import dev.chainsocks.dns.DnsServer;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.redirect.Redirector;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.DurationSyntax;
import dev.chainsocks.udp.UdpRedirector;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.tinylog.Logger;

/**
 * chainsocks as a running service: the redirector plus what an operator talks to — systemd notifications
 * (READY, STATUS, RELOADING, STOPPING, WATCHDOG), the control socket, optional Prometheus metrics — and the
 * reload and shutdown procedures.
 */
public final class ChainsocksService implements AutoCloseable {

    /** Reads the configuration again for a reload; throws with a user-facing message when it is invalid. */
    @FunctionalInterface
    public interface ConfigReader {
        ChainsocksConfig read() throws Exception;
    }

    private static final Duration STATUS_INTERVAL = Duration.ofSeconds(5);
    /** How long a rejected reload waits for the metrics port it released to be free again. */
    private static final Duration METRICS_RESTORE_WAIT = Duration.ofSeconds(2);
    private static final Duration METRICS_RESTORE_RETRY = Duration.ofMillis(10);

    private final Redirector redirector;
    private final UdpRedirector udp;
    private final ConfigReader reader;
    /** Settings read once at start; a reload cannot change them, so it compares new values with these. */
    private final org.tinylog.Level logLevelInEffect;
    /** {@code service.control-socket} at start, or null when {@code --control-socket} overrides the file. */
    private Optional<Path> configuredControlSocket;
    private final SystemdNotifier notifier;
    private final ScheduledExecutorService timers;
    private ControlServer control;
    private MetricsEndpoint metrics;
    /** The {@code [dns]} server, while one is configured and bound. */
    private volatile DnsServer dns;

    private ChainsocksService(Redirector redirector, UdpRedirector udp, ConfigReader reader,
                              SystemdNotifier notifier) {
        this.redirector = redirector;
        this.udp = udp;
        this.reader = reader;
        this.logLevelInEffect = redirector.config().service().logLevel();
        this.notifier = notifier;
        this.timers = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "service-timer");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Binds the listeners, opens the control socket (at {@code controlSocket}, else the configured one, else the
     * default for this environment: {@link ControlSocketLocation}) and metrics, then tells systemd it is ready.
     */
    public static ChainsocksService start(ChainsocksConfig config, ConfigReader reader, Path controlSocket)
            throws IOException {
        Redirector redirector = Redirector.start(config);
        UdpRedirector udp;
        try {
            udp = UdpRedirector.start(config);
        } catch (IOException | RuntimeException e) {
            redirector.close();
            throw e;
        }
        ChainsocksService service = new ChainsocksService(redirector, udp, reader, SystemdNotifier.fromEnvironment());
        boolean success = false;
        try {
            if (config.dns().isPresent()) {
                service.dns = service.startDns(config.dns().get(), config);
            }
            service.configuredControlSocket = controlSocket != null ? null : config.service().controlSocket();
            service.openControlSocket(ControlSocketLocation.forThisProcess(
                    controlSocket != null ? Optional.of(controlSocket) : config.service().controlSocket()));
            if (config.metrics().isPresent()) {
                MetricsConfig metricsConfig = config.metrics().get();
                service.metrics = MetricsEndpoint.start(metricsConfig.listen(), redirector, udp, service::dnsStats);
                Logger.info("metrics on http://{}/metrics", AddressSyntax.format(service.metrics.address()));
            }
            service.notifier.ready();
            service.notifier.status(service.statusLine());
            service.startTimers();
            success = true;
            return service;
        } finally {
            if (!success) {
                service.close();
            }
        }
    }

    /**
     * Opens the control socket where {@code location} says. Without a location, or when the default's directory
     * cannot be made, the service runs on without one and says so; any other failure (another chainsocks answering
     * on the path, a configured directory that is missing) stops the start.
     */
    private void openControlSocket(ControlSocketLocation location) throws IOException {
        if (location.socket().isEmpty()) {
            Logger.info("{} to use chainsocks status, connections and reload", location.describe());
            return;
        }
        Path socket = location.socket().get();
        Path directory = socket.toAbsolutePath().getParent();
        if (location.createsDirectory() && directory != null && !Files.isDirectory(directory)) {
            try {
                // root's /run/chainsocks may be read by the group (as systemd's RuntimeDirectoryMode=0750 would);
                // a user's $XDG_RUNTIME_DIR/chainsocks is private.
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions
                        .fromString(location.rule() == ControlSocketLocation.Rule.ROOT ? "rwxr-x---" : "rwx------")));
            } catch (IOException e) {
                Logger.warn("control socket disabled: cannot create {} ({}); chainsocks status will not reach this "
                        + "process. Use {}.", directory, e.getMessage(), ControlSocketLocation.HOW_TO_SET);
                return;
            }
        }
        control = ControlServer.start(socket, this::handle);
    }

    private void startTimers() {
        timers.scheduleWithFixedDelay(() -> notifier.status(statusLine()), STATUS_INTERVAL.toMillis(),
                STATUS_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        HeapGiveBack.forThisJvm(redirector::activeSessions).ifPresent(check -> timers.scheduleWithFixedDelay(check,
                HeapGiveBack.INTERVAL.toMillis(), HeapGiveBack.INTERVAL.toMillis(), TimeUnit.MILLISECONDS));
        notifier.watchdogInterval().ifPresent(interval -> {
            List<EventLoop> loops = new ArrayList<>(redirector.loops());
            loops.addAll(udp.loops());
            LoopHeartbeat heartbeat = new LoopHeartbeat(loops);
            timers.scheduleAtFixedRate(() -> {
                if (heartbeat.allAnsweredAndPing()) {
                    notifier.watchdog();
                } else {
                    Logger.error("watchdog: an event loop did not answer within {}; not petting the watchdog",
                            DurationSyntax.format(interval));
                }
            }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
            Logger.info("systemd watchdog: pinging every {}", DurationSyntax.format(interval));
        });
    }

    /** "12 active, 345 accepted, 3 failed": the line systemctl status shows. */
    String statusLine() {
        long failed = redirector.counters().failuresByReason().values().stream().mapToLong(Long::longValue).sum();
        return redirector.activeSessions() + " active, " + redirector.counters().accepted() + " accepted, "
                + failed + " failed" + (redirector.config().udpListeners().isEmpty() ? ""
                : ", " + udp.activeFlows() + " UDP flows");
    }

    /** Answers one control-socket request. */
    String handle(String command) {
        return switch (command.strip()) {
            case "status" -> StatusReport.text(redirector, dnsStats()) + StatusReport.udpText(udp.listeners());
            case "status --json" -> StatusReport.json(redirector, udp.listeners(), dnsStats());
            case "connections" -> StatusReport.connections(redirector);
            case "connections --json" -> ConnectionsReport.of(redirector).toJson();
            case "reload" -> reload();
            case "ping" -> "pong\n";
            default -> "error: unknown command \"" + command.strip()
                    + "\" (status, status --json, connections, connections --json, reload, ping)\n";
        };
    }

    /**
     * Reads the configuration again and applies it. A bad configuration is rejected with its problems and the
     * running one stays; established connections are never cut.
     */
    public synchronized String reload() {
        notifier.reloading();
        Optional<InetSocketAddress> releasedMetrics = Optional.empty();
        try {
            ChainsocksConfig previous = redirector.config();
            ChainsocksConfig next = reader.read();
            releasedMetrics = releaseMetricsFor(next);
            redirector.reload(next);
            udp.reload(next);
            StringBuilder answer = new StringBuilder("reloaded: ").append(next.listeners().size())
                    .append(" listener(s), ")
                    .append(next.udpListeners().isEmpty() ? "" : next.udpListeners().size() + " UDP listener(s), ").append(next.chains().size()).append(" chain(s); ")
                    .append(redirector.activeSessions()).append(" session(s) carry on\n");
            reloadMetrics(previous, next, releasedMetrics.isPresent(), answer);
            reloadDns(next, answer);
            if (!logLevelInEffect.equals(next.service().logLevel())) {
                restartNeeded(answer, "service.log-level");
            }
            if (configuredControlSocket != null && !configuredControlSocket.equals(next.service().controlSocket())) {
                restartNeeded(answer, "service.control-socket");
            }
            return answer.toString();
        } catch (Exception e) {
            Logger.error("reload rejected, the running configuration stays: {}", e.getMessage());
            String answer = "error: reload rejected, the running configuration stays: " + e.getMessage() + "\n";
            if (releasedMetrics.isPresent()) {
                answer += restoreMetrics(releasedMetrics.get());
            }
            return answer;
        } finally {
            notifier.ready();
            notifier.status(statusLine());
        }
    }

    /**
     * Closes the metrics endpoint when a listener of {@code next} is to be bound on its port: metrics moving to
     * another port and a listener taking the old one in the same reload. chainsocks holds that port itself, so the
     * listener must not be refused as if another process did. Returns the address released, to be restored should
     * the reload fail.
     */
    private Optional<InetSocketAddress> releaseMetricsFor(ChainsocksConfig next) {
        if (metrics == null) {
            return Optional.empty();
        }
        InetSocketAddress held = metrics.address();
        boolean wanted = next.listeners().stream().anyMatch(listener -> samePort(listener.listen(), held));
        if (!wanted) {
            return Optional.empty();
        }
        Logger.info("metrics endpoint http://{}/metrics closed: the new configuration listens on its port",
                AddressSyntax.format(held));
        metrics.close();
        metrics = null;
        return Optional.of(held);
    }

    /** Whether binding {@code wanted} would collide with {@code held}: same port, same or a wildcard address. */
    private static boolean samePort(InetSocketAddress wanted, InetSocketAddress held) {
        return wanted.getPort() == held.getPort() && (wanted.getAddress().equals(held.getAddress())
                || wanted.getAddress().isAnyLocalAddress() || held.getAddress().isAnyLocalAddress());
    }

    /**
     * Starts the metrics endpoint again where it was, after a rejected reload released it. A listener that the
     * reload bound on that port is closed on its event loop, so the port can stay taken for a moment: binding is
     * tried again until {@link #METRICS_RESTORE_WAIT} has passed. Returns a warning for the reload's answer, or "".
     */
    private String restoreMetrics(InetSocketAddress address) {
        long deadline = System.nanoTime() + METRICS_RESTORE_WAIT.toNanos();
        while (true) {
            try {
                metrics = MetricsEndpoint.start(address, redirector, udp, this::dnsStats);
                Logger.info("metrics back on http://{}/metrics", AddressSyntax.format(metrics.address()));
                return "";
            } catch (BindException e) {
                if (System.nanoTime() - deadline > 0) {
                    return metricsNotRestored(address, e);
                }
                try {
                    Thread.sleep(METRICS_RESTORE_RETRY.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return metricsNotRestored(address, e);
                }
            } catch (IOException e) {
                return metricsNotRestored(address, e);
            }
        }
    }

    private static String metricsNotRestored(InetSocketAddress address, IOException e) {
        String message = "metrics endpoint not restored on " + AddressSyntax.format(address) + ": " + e.getMessage()
                + "; it starts again with the next successful reload";
        Logger.error(message);
        return "warning: " + message + "\n";
    }

    private void reloadMetrics(ChainsocksConfig previous, ChainsocksConfig next, boolean released,
                               StringBuilder answer) {
        if (!released && previous.metrics().equals(next.metrics())) {
            return;
        }
        if (metrics != null) {
            metrics.close();
            metrics = null;
        }
        if (next.metrics().isPresent()) {
            try {
                metrics = MetricsEndpoint.start(next.metrics().get().listen(), redirector, udp, this::dnsStats);
                Logger.info("metrics moved to http://{}/metrics", AddressSyntax.format(metrics.address()));
            } catch (IOException e) {
                Logger.error("metrics endpoint not restarted: {}", e.getMessage());
                answer.append("warning: metrics endpoint not restarted: ").append(e.getMessage()).append('\n');
            }
        }
    }

    private static void restartNeeded(StringBuilder answer, String key) {
        Logger.warn("{} changed; it takes effect when the service restarts", key);
        answer.append("warning: ").append(key).append(" changed; it takes effect when the service restarts\n");
    }

    private Optional<DnsServer.Stats> dnsStats() {
        DnsServer server = dns;
        return server == null ? Optional.empty() : Optional.of(server.stats());
    }

    private DnsServer startDns(DnsConfig config, ChainsocksConfig whole) throws IOException {
        return DnsServer.start(config, redirector.fakeIps(), config.upstreamViaChain().map(redirector::dnsTunnel),
                udpSetup(whole));
    }

    /** SO_MARK on the sockets that forward queries over UDP, as on every upstream socket. */
    private static DnsServer.UdpSetup udpSetup(ChainsocksConfig config) {
        if (config.service().mark().isEmpty()) {
            return DnsServer.UdpSetup.NONE;
        }
        int mark = (int) config.service().mark().getAsLong();
        return channel -> LinuxSockets.get().setMark(channel, mark);
    }

    /**
     * Applies {@code [dns]} after the redirector took the rest (and reconfigured the fake-IP map): the same listen
     * addresses keep their sockets; others are closed and bound anew. A DNS server that cannot be bound is a
     * warning in the answer: the redirector already runs the new configuration.
     */
    private void reloadDns(ChainsocksConfig next, StringBuilder answer) {
        DnsServer running = dns;
        if (next.dns().isEmpty()) {
            if (running != null) {
                dns = null;
                running.close();
                Logger.info("DNS server stopped: [dns] was removed");
            }
            return;
        }
        DnsConfig config = next.dns().get();
        if (running != null && running.sameSockets(config)) {
            running.reconfigure(config, config.upstreamViaChain().map(redirector::dnsTunnel), udpSetup(next));
            return;
        }
        if (running != null) {
            dns = null;
            running.close();
        }
        try {
            dns = startDns(config, next);
        } catch (IOException | RuntimeException e) {
            Logger.error("DNS server not started: {}", e.getMessage());
            answer.append("warning: DNS server not started: ").append(e.getMessage()).append('\n');
        }
    }

    public Redirector redirector() {
        return redirector;
    }

    /** SIGTERM: stop accepting, let live relays finish for up to {@code grace}, then close everything. */
    public void shutdown(Duration grace) throws InterruptedException {
        notifier.stopping();
        redirector.stopAccepting();
        Logger.info("stopping: no longer accepting; {} session(s) may finish within {}", redirector.activeSessions(),
                DurationSyntax.format(grace));
        int left = redirector.drain(grace);
        if (left > 0) {
            Logger.warn("closing {} session(s) still open after the grace period", left);
        }
        close();
    }

    @Override
    public void close() {
        timers.shutdownNow();
        if (control != null) {
            try {
                control.close();
            } catch (IOException e) {
                Logger.warn("closing the control socket: {}", e.getMessage());
            }
        }
        if (metrics != null) {
            metrics.close();
        }
        udp.close();
        DnsServer server = dns;
        if (server != null) {
            server.close();
        }
        redirector.close();
        try {
            notifier.close();
        } catch (IOException ignored) {
            // nothing to tell systemd any more
        }
    }

    /**
     * Proves the event loops still turn: each tick posts a task to every loop; the next tick checks all ran. A
     * wedged loop stops the watchdog pings, and systemd restarts the service.
     */
    static final class LoopHeartbeat {
        private final List<EventLoop> loops;
        private final AtomicLongArray answered;
        private long round;

        LoopHeartbeat(List<EventLoop> loops) {
            this.loops = loops;
            this.answered = new AtomicLongArray(loops.size());
        }

        boolean allAnsweredAndPing() {
            boolean healthy = true;
            for (int i = 0; i < loops.size(); i++) {
                healthy &= answered.get(i) == round;
            }
            long next = ++round;
            for (int i = 0; i < loops.size(); i++) {
                int index = i;
                loops.get(i).execute(() -> answered.set(index, next));
            }
            return healthy;
        }
    }
}
