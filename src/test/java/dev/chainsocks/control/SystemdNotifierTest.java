package dev.chainsocks.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(20)
class SystemdNotifierTest {
    private static final long PID = 4242;

    @Test
    void messagesArriveInOrderAtAFileSystemSocket(@TempDir Path dir) throws IOException {
        Path socket = dir.resolve("notify");
        try (UnixDatagramChannel systemd = UnixDatagramChannel.open()) {
            systemd.bind(new UnixSocketAddress(socket.toString()));
            try (SystemdNotifier notifier = SystemdNotifier.fromEnvironment(
                    Map.of("NOTIFY_SOCKET", socket.toString()), PID, () -> 1_234_567_890L)) {
                assertThat(notifier.enabled()).isTrue();
                assertThat(notifier.ready()).isTrue();
                assertThat(notifier.status("2 listeners,\n17 connections")).isTrue();
                assertThat(notifier.reloading()).isTrue();
                assertThat(notifier.ready()).isTrue();
                assertThat(notifier.watchdog()).isTrue();
                assertThat(notifier.stopping()).isTrue();
            }

            assertThat(receive(systemd, 6)).containsExactly(
                    "READY=1",
                    "STATUS=2 listeners, 17 connections",
                    "RELOADING=1\nMONOTONIC_USEC=1234567890",
                    "READY=1",
                    "WATCHDOG=1",
                    "STOPPING=1");
        }
    }

    @Test
    void abstractSocketNameIsUsedAsAnAbstractAddress() throws IOException {
        String name = "chainsocks-test-" + UUID.randomUUID();
        try (UnixDatagramChannel systemd = UnixDatagramChannel.open()) {
            systemd.bind(new UnixSocketAddress("\0" + name));
            // The kernel lists it as "@name": abstract, exactly that long, no trailing NUL.
            assertThat(Files.readAllLines(Path.of("/proc/net/unix"))).anyMatch(line -> line.endsWith(" @" + name));

            try (SystemdNotifier notifier = SystemdNotifier.fromEnvironment(
                    Map.of("NOTIFY_SOCKET", "@" + name), PID, () -> 1)) {
                assertThat(notifier.ready()).isTrue();
                assertThat(notifier.status("serving")).isTrue();
            }

            assertThat(receive(systemd, 2)).containsExactly("READY=1", "STATUS=serving");
        }
    }

    @Test
    void reloadingCarriesTheRealMonotonicClock(@TempDir Path dir) throws IOException {
        Path socket = dir.resolve("notify");
        try (UnixDatagramChannel systemd = UnixDatagramChannel.open()) {
            systemd.bind(new UnixSocketAddress(socket.toString()));
            double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            try (SystemdNotifier notifier = SystemdNotifier.fromEnvironment(
                    Map.of("NOTIFY_SOCKET", socket.toString()), PID,
                    dev.chainsocks.linux.MonotonicClock::microseconds)) {
                notifier.reloading();
            }
            String[] lines = receive(systemd, 1).get(0).split("\n");
            assertThat(lines[0]).isEqualTo("RELOADING=1");
            assertThat(lines[1]).matches("MONOTONIC_USEC=\\d+");
            long usec = Long.parseLong(lines[1].substring("MONOTONIC_USEC=".length()));
            assertThat(usec).isBetween((long) ((uptime - 60) * 1_000_000), (long) ((uptime + 60) * 1_000_000));
        }
    }

    @Test
    void withoutNotifySocketNothingIsSent() throws IOException {
        try (SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(), PID, () -> 1)) {
            assertThat(notifier.enabled()).isFalse();
            assertThat(notifier.ready()).isFalse();
            assertThat(notifier.reloading()).isFalse();
            notifier.send("READY=1");
            assertThat(notifier).hasToString("systemd notifications off");
        }
    }

    @Test
    void unsupportedSocketKindDisablesNotifications() {
        SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "vsock:2:1234"), PID,
                () -> 1);
        assertThat(notifier.enabled()).isFalse();
    }

    @Test
    void missingReceiverIsReportedNotThrown(@TempDir Path dir) throws IOException {
        try (SystemdNotifier notifier = SystemdNotifier.fromEnvironment(
                Map.of("NOTIFY_SOCKET", dir.resolve("gone").toString()), PID, () -> 1)) {
            assertThat(notifier.ready()).isFalse();
        }
    }

    @Test
    void watchdogIntervalIsHalfTheTimeoutWhenItIsForUs() {
        assertThat(watchdog(Map.of("WATCHDOG_USEC", "10000000"))).contains(Duration.ofSeconds(5));
        assertThat(watchdog(Map.of("WATCHDOG_USEC", "3000", "WATCHDOG_PID", Long.toString(PID))))
                .contains(Duration.ofMillis(1).plusNanos(500_000));
        assertThat(watchdog(Map.of("WATCHDOG_USEC", "10000000", "WATCHDOG_PID", "1"))).isEmpty();
        assertThat(watchdog(Map.of("WATCHDOG_PID", Long.toString(PID)))).isEmpty();
        assertThat(watchdog(Map.of("WATCHDOG_USEC", "soon"))).isEmpty();
        assertThat(watchdog(Map.of("WATCHDOG_USEC", "0"))).isEmpty();
    }

    private static java.util.Optional<Duration> watchdog(Map<String, String> environment) {
        return SystemdNotifier.fromEnvironment(environment, PID, () -> 1).watchdogInterval();
    }

    private static List<String> receive(UnixDatagramChannel channel, int count) throws IOException {
        List<String> messages = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        for (int i = 0; i < count; i++) {
            buffer.clear();
            channel.receive(buffer);
            buffer.flip();
            messages.add(StandardCharsets.UTF_8.decode(buffer).toString());
        }
        return messages;
    }
}
