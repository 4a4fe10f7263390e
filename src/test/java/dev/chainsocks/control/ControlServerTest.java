package dev.chainsocks.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class ControlServerTest {
    @TempDir
    Path dir;

    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final ControlHandler echo = command -> {
        commands.add(command);
        return "you said: " + command;
    };

    @Test
    void eachConnectionCarriesOneCommandAndItsAnswer() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer server = ControlServer.start(socket, echo);
        try (server) {
            assertThat(ControlClient.send(socket, "status")).isEqualTo("you said: status\n");
            assertThat(ControlClient.send(socket, "status --json")).isEqualTo("you said: status --json\n");
            assertThat(ControlClient.send(socket, "connections")).isEqualTo("you said: connections\n");
            assertThat(server.socket()).isEqualTo(socket.toAbsolutePath());
        }
        assertThat(commands).containsExactly("status", "status --json", "connections");
    }

    @Test
    void multiLineAnswerArrivesWhole() throws IOException {
        Path socket = dir.resolve("control.sock");
        String big = "line\n".repeat(100_000);
        ControlServer server = ControlServer.start(socket, command -> big);
        try (server) {
            assertThat(ControlClient.send(socket, "connections")).isEqualTo(big);
        }
    }

    @Test
    void socketFileIsReadableAndWritableByOwnerAndGroupOnly() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer server = ControlServer.start(socket, echo);
        try (server) {
            assertThat(Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther())
                    .isTrue();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void answersOnADaemonThreadNamedForItsJob() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer server = ControlServer.start(socket,
                command -> Thread.currentThread().getName() + " daemon=" + Thread.currentThread().isDaemon());
        try (server) {
            assertThat(ControlClient.send(socket, "who")).matches("control-handler-[12] daemon=true\n");
        }
    }

    @Test
    void oversizedRequestLineIsRefusedWithoutReachingTheHandler() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer server = ControlServer.start(socket, echo);
        try (server) {
            assertThat(rawExchange(socket, "x".repeat(ControlServer.MAX_REQUEST_BYTES + 1) + "\n"))
                    .isEqualTo("error: the request line is longer than 4096 bytes\n");
            String longest = "y".repeat(ControlServer.MAX_REQUEST_BYTES);
            assertThat(rawExchange(socket, longest + "\n")).isEqualTo("you said: " + longest + "\n");
            assertThatThrownBy(() -> ControlClient.send(socket, longest + "z"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("control command longer than 4096 bytes");
        }
        assertThat(commands).hasSize(1);
    }

    @Test
    void handlerFailureBecomesAnErrorLine() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer server = ControlServer.start(socket, command -> {
            if (command.equals("reload")) {
                throw new IOException("config.toml line 3: unknown key 'lisen'");
            }
            throw new IllegalStateException();
        });
        try (server) {
            assertThat(ControlClient.send(socket, "reload"))
                    .isEqualTo("error: config.toml line 3: unknown key 'lisen'\n");
            assertThat(ControlClient.send(socket, "status")).isEqualTo("error: IllegalStateException\n");
        }
    }

    @Test
    void emptyRequestAndLineWithoutBreakAtEndOfStream() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer server = ControlServer.start(socket, echo);
        try (server) {
            assertThat(rawExchange(socket, "\r\n")).isEqualTo("error: empty request\n");
            assertThat(rawExchange(socket, "status")).isEqualTo("you said: status\n");
        }
    }

    @Test
    void silentClientTimesOutAndTheNextOneIsServed() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer server = ControlServer.start(socket, echo, Duration.ofMillis(300));
        try (server; SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            assertThat(readAll(silent)).isEqualTo("error: timed out after 300 ms waiting for the request line\n");
            assertThat(ControlClient.send(socket, "status")).isEqualTo("you said: status\n");
        }
    }

    /**
     * Six clients connect and send nothing; a seventh asks for status. It is answered while the six are still
     * waiting for their own deadline (they have received nothing yet), so it did not queue behind them.
     */
    @Test
    void idleClientsDoNotDelayAnother() throws IOException {
        Path socket = dir.resolve("control.sock");
        Duration idleDeadline = Duration.ofSeconds(20);
        List<SocketChannel> idle = new ArrayList<>();
        ControlServer server = ControlServer.start(socket, echo, idleDeadline);
        try (server) {
            for (int i = 0; i < 6; i++) {
                idle.add(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
            }
            assertThat(ControlClient.send(socket, "status", idleDeadline)).isEqualTo("you said: status\n");
            for (SocketChannel client : idle) {
                client.configureBlocking(false);
                assertThat(client.read(ByteBuffer.allocate(64))).as("nothing sent to an idle client yet").isZero();
            }
        } finally {
            for (SocketChannel client : idle) {
                client.close();
            }
        }
        assertThat(commands).containsExactly("status");
    }

    /** A client that sends half a line and stalls does not hold up one that sends a whole line after it. */
    @Test
    void halfALineDoesNotDelayAWholeOne() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer server = ControlServer.start(socket, echo, Duration.ofSeconds(20));
        try (server; SocketChannel slow = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            slow.write(ByteBuffer.wrap("sta".getBytes(StandardCharsets.US_ASCII)));
            assertThat(ControlClient.send(socket, "connections")).isEqualTo("you said: connections\n");
            slow.write(ByteBuffer.wrap("tus\n".getBytes(StandardCharsets.US_ASCII)));
            assertThat(readAll(slow)).isEqualTo("you said: status\n");
        }
        assertThat(commands).containsExactly("connections", "status");
    }

    /** A handler busy with one request (a reload) does not hold up the next (a status). */
    @Test
    void slowHandlerDoesNotDelayTheNextRequest() throws Exception {
        Path socket = dir.resolve("control.sock");
        CountDownLatch reloadStarted = new CountDownLatch(1);
        CountDownLatch finishReload = new CountDownLatch(1);
        ControlServer server = ControlServer.start(socket, command -> {
            if (command.equals("reload")) {
                reloadStarted.countDown();
                finishReload.await();
                return "reloaded";
            }
            return "status while reloading: " + (reloadStarted.getCount() == 0 && finishReload.getCount() == 1);
        });
        ExecutorService background = Executors.newSingleThreadExecutor();
        try (server) {
            Future<String> reload = background.submit(() -> ControlClient.send(socket, "reload"));
            assertThat(reloadStarted.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ControlClient.send(socket, "status")).isEqualTo("status while reloading: true\n");
            assertThat(reload).isNotDone();
            finishReload.countDown();
            assertThat(reload.get(10, TimeUnit.SECONDS)).isEqualTo("reloaded\n");
        } finally {
            finishReload.countDown();
            background.shutdownNow();
        }
    }

    /**
     * More idle clients than the server keeps: the ones that have waited longest are closed unanswered to make
     * room, and a status that comes after them is still answered.
     */
    @Test
    void beyondTheClientLimitTheLongestIdleAreDropped() throws IOException {
        Path socket = dir.resolve("control.sock");
        List<SocketChannel> idle = new ArrayList<>();
        ControlServer server = ControlServer.start(socket, echo, Duration.ofSeconds(20));
        try (server) {
            int extra = 3;
            for (int i = 0; i < ControlServer.MAX_CLIENTS + extra; i++) {
                idle.add(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
            }
            assertThat(ControlClient.send(socket, "status")).isEqualTo("you said: status\n");
            // status took the place of one more: the first extra + 1 idle clients were closed, in order.
            for (int i = 0; i < extra + 1; i++) {
                assertThat(readAll(idle.get(i))).as("idle client %d closed unanswered", i).isEmpty();
            }
            for (SocketChannel client : idle.subList(extra + 1, idle.size())) {
                client.configureBlocking(false);
                assertThat(client.read(ByteBuffer.allocate(64))).as("still waiting").isZero();
            }
        } finally {
            for (SocketChannel client : idle) {
                client.close();
            }
        }
    }

    /**
     * A client that stops taking a long answer is dropped once the answer has made no progress for the I/O
     * timeout, while another client is served meanwhile. A sentinel client connected after the stall began has a
     * later deadline: when its own timeout answer arrives, the stalled client's deadline has been handled too.
     */
    @Test
    void clientThatStopsReadingIsDroppedAndOthersAreServed() throws IOException {
        Path socket = dir.resolve("control.sock");
        String big = "line\n".repeat(1_000_000);
        ControlServer server = ControlServer.start(socket, command -> command.equals("big") ? big : "small",
                Duration.ofMillis(300));
        try (server; SocketChannel stalled = SocketChannel.open(UnixDomainSocketAddress.of(socket));
             Selector selector = Selector.open()) {
            stalled.write(ByteBuffer.wrap("big\n".getBytes(StandardCharsets.US_ASCII)));
            stalled.configureBlocking(false);
            stalled.register(selector, SelectionKey.OP_READ);
            assertThat(selector.select(10_000)).as("the answer begins to arrive").isEqualTo(1);

            assertThat(ControlClient.send(socket, "status")).isEqualTo("small\n");
            try (SocketChannel sentinel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                assertThat(readAll(sentinel)).isEqualTo("error: timed out after 300 ms waiting for the request line\n");
            }
            selector.close();
            stalled.configureBlocking(true);
            assertThat(readAll(stalled).length()).as("a part of the answer, then the end of the stream")
                    .isPositive().isLessThan(big.length());
        }
    }

    @Test
    void staleSocketFromACrashedRunIsReplaced() throws IOException {
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        ControlServer server = ControlServer.start(socket, echo);
        try (server) {
            assertThat(ControlClient.send(socket, "status")).isEqualTo("you said: status\n");
        }
    }

    @Test
    void liveSocketIsNotTakenOver() throws IOException {
        Path socket = dir.resolve("control.sock");
        ControlServer first = ControlServer.start(socket, echo);
        try (first) {
            assertThatThrownBy(() -> ControlServer.start(socket, echo))
                    .isInstanceOf(IOException.class)
                    .hasMessage("cannot create control socket " + socket + ": another chainsocks is answering on "
                            + "it; stop it first or use --control-socket PATH");
            assertThat(ControlClient.send(socket, "status")).isEqualTo("you said: status\n");
        }
    }

    @Test
    void regularFileIsNotReplaced() throws IOException {
        Path socket = Files.writeString(dir.resolve("control.sock"), "precious");
        assertThatThrownBy(() -> ControlServer.start(socket, echo))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("a file that is not a socket is there; refusing to replace it");
        assertThat(socket).hasContent("precious");
    }

    @Test
    void missingDirectoryIsExplained() {
        Path socket = dir.resolve("no-such-dir/control.sock");
        assertThatThrownBy(() -> ControlServer.start(socket, echo))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot create control socket " + socket + ": directory "
                        + dir.resolve("no-such-dir") + " does not exist");
    }

    @Test
    void clientSaysWhenTheServiceIsNotRunning() {
        Path socket = dir.resolve("control.sock");
        assertThatThrownBy(() -> ControlClient.send(socket, "status"))
                .isInstanceOf(IOException.class)
                .hasMessage("cannot reach chainsocks control socket " + socket + ": No such file or directory"
                        + " — is the service running? (--control-socket PATH to use another)");
    }

    @Test
    void clientSaysWhenTheSocketIsStale() throws IOException {
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThatThrownBy(() -> ControlClient.send(socket, "status"))
                .isInstanceOf(IOException.class)
                .hasMessage("cannot reach chainsocks control socket " + socket + ": Connection refused"
                        + " — is the service running? (--control-socket PATH to use another)");
    }

    @Test
    void clientRefusesMoreThanOneLine() {
        assertThatThrownBy(() -> ControlClient.send(dir.resolve("control.sock"), "status\nreload"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Writes bytes as a client without ControlClient's checks would, and reads what comes back. */
    private static String rawExchange(Path socket, String request) throws IOException {
        try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ByteBuffer bytes = ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                client.write(bytes);
            }
            client.shutdownOutput();
            return readAll(client);
        }
    }

    private static String readAll(SocketChannel client) throws IOException {
        StringBuilder text = new StringBuilder();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (true) {
            buffer.clear();
            int read;
            try {
                read = client.read(buffer);
            } catch (IOException reset) {
                // The server closed with our unread bytes still queued; the kernel reports that after the data.
                return text.toString();
            }
            if (read < 0) {
                return text.toString();
            }
            buffer.flip();
            text.append(StandardCharsets.UTF_8.decode(buffer));
        }
    }
}
