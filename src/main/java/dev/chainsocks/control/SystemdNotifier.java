package dev.chainsocks.control;

import dev.chainsocks.linux.MonotonicClock;
import dev.chainsocks.linux.UnixDatagramSocket;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.tinylog.Logger;

/**
 * Tells systemd how the service is doing ({@code sd_notify}): one datagram per message to the unix socket named by
 * {@code $NOTIFY_SOCKET}, a file-system path or an abstract name written {@code @name}.
 *
 * <p>Without {@code $NOTIFY_SOCKET} (not started by systemd, or not {@code Type=notify}) the notifier is disabled
 * and every method does nothing. The convenience methods never throw: a failed notification is logged as a
 * warning and reported by a {@code false} return, because the service should keep serving either way.
 *
 * <pre>{@code
 * SystemdNotifier systemd = SystemdNotifier.fromEnvironment();
 * systemd.ready();
 * systemd.watchdogInterval().ifPresent(every -> scheduler.scheduleAtFixedRate(systemd::watchdog, ...));
 * }</pre>
 */
public final class SystemdNotifier implements Closeable {
    /** {@code $NOTIFY_SOCKET}: a path, or an abstract name written {@code @name}; null when disabled. */
    private final String socketName;
    private final Optional<Duration> watchdogInterval;
    private final LongSupplier monotonicMicros;
    private UnixDatagramSocket socket;

    private SystemdNotifier(String socketName, Optional<Duration> watchdogInterval, LongSupplier monotonicMicros) {
        this.socketName = socketName;
        this.watchdogInterval = watchdogInterval;
        this.monotonicMicros = monotonicMicros;
    }

    /** A notifier for this process's environment; disabled when {@code $NOTIFY_SOCKET} is absent. */
    public static SystemdNotifier fromEnvironment() {
        return fromEnvironment(System.getenv(), ProcessHandle.current().pid(), MonotonicClock::microseconds);
    }

    /** A notifier that sends nothing. */
    public static SystemdNotifier disabled() {
        return new SystemdNotifier(null, Optional.empty(), () -> 0);
    }

    static SystemdNotifier fromEnvironment(Map<String, String> environment, long pid, LongSupplier monotonicMicros) {
        Optional<Duration> watchdog = watchdogInterval(environment, pid);
        String socket = environment.get("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return new SystemdNotifier(null, watchdog, monotonicMicros);
        }
        if (!socket.startsWith("/") && !(socket.startsWith("@") && socket.length() > 1)) {
            Logger.warn("NOTIFY_SOCKET={} is not a path or an @abstract name; systemd notifications are off", socket);
            return new SystemdNotifier(null, watchdog, monotonicMicros);
        }
        return new SystemdNotifier(socket, watchdog, monotonicMicros);
    }

    /**
     * Half of {@code $WATCHDOG_USEC}, the interval at which {@link #watchdog()} should be sent, when systemd's
     * watchdog is on for this process ({@code $WATCHDOG_PID} absent or equal to our pid).
     */
    private static Optional<Duration> watchdogInterval(Map<String, String> environment, long pid) {
        String usec = environment.get("WATCHDOG_USEC");
        if (usec == null || usec.isEmpty()) {
            return Optional.empty();
        }
        String watchdogPid = environment.get("WATCHDOG_PID");
        try {
            if (watchdogPid != null && !watchdogPid.isEmpty() && Long.parseLong(watchdogPid) != pid) {
                return Optional.empty();
            }
            long microseconds = Long.parseLong(usec);
            if (microseconds <= 0) {
                throw new NumberFormatException("not positive");
            }
            return Optional.of(Duration.ofNanos(microseconds * 1_000L / 2));
        } catch (NumberFormatException e) {
            Logger.warn("ignoring WATCHDOG_USEC={} WATCHDOG_PID={}: {}", usec, watchdogPid, e.getMessage());
            return Optional.empty();
        }
    }

    /** Whether notifications go anywhere. */
    public boolean enabled() {
        return socketName != null;
    }

    /** How often to call {@link #watchdog()}: half the watchdog timeout, when systemd watches this process. */
    public Optional<Duration> watchdogInterval() {
        return watchdogInterval;
    }

    /** {@code READY=1}: startup (or a reload) is finished. */
    public boolean ready() {
        return tryNotify("READY=1");
    }

    /** {@code STATUS=...}: a one-line status shown by {@code systemctl status}; line breaks become spaces. */
    public boolean status(String text) {
        return tryNotify("STATUS=" + text.replace('\n', ' ').replace('\r', ' '));
    }

    /**
     * {@code RELOADING=1} with {@code MONOTONIC_USEC}, which systemd 253 and later need for
     * {@code Type=notify-reload}. Send {@link #ready()} when the reload is done.
     */
    public boolean reloading() {
        if (!enabled()) {
            return false;
        }
        return tryNotify("RELOADING=1\nMONOTONIC_USEC=" + monotonicMicros.getAsLong());
    }

    /** {@code STOPPING=1}: shutdown has begun. */
    public boolean stopping() {
        return tryNotify("STOPPING=1");
    }

    /** {@code WATCHDOG=1}: still alive. */
    public boolean watchdog() {
        return tryNotify("WATCHDOG=1");
    }

    /**
     * Sends one notification datagram as given (newline-separated {@code KEY=VALUE} assignments).
     *
     * @throws IOException when the datagram cannot be sent; nothing happens when disabled
     */
    public void send(String state) throws IOException {
        if (!enabled()) {
            return;
        }
        byte[] datagram = state.getBytes(StandardCharsets.UTF_8);
        synchronized (this) {
            if (socket == null) {
                socket = UnixDatagramSocket.open();
            }
            socket.send(datagram, socketName);
        }
    }

    private boolean tryNotify(String state) {
        if (!enabled()) {
            return false;
        }
        try {
            send(state);
            return true;
        } catch (IOException | RuntimeException e) {
            Logger.warn("could not notify systemd at {} of {}: {}", socketName, state.replace('\n', ' '),
                    e.getMessage());
            return false;
        }
    }

    /** Closes the socket, if one was opened. */
    @Override
    public synchronized void close() throws IOException {
        if (socket != null) {
            socket.close();
            socket = null;
        }
    }

    @Override
    public String toString() {
        return enabled() ? "systemd notifications to " + socketName : "systemd notifications off";
    }
}
