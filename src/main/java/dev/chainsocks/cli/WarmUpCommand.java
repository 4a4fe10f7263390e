package dev.chainsocks.cli;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ConfigException;
import dev.chainsocks.config.ConfigLoader;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.service.ChainsocksService;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code chainsocks warm-up}: the service's start-up path once, on loopback, for recording a class-data archive.
 * The install step runs it under {@code -XX:ArchiveClassesAtExit} ({@code class-archive}, written by
 * native-scripts/install.sh), and {@code run} then maps the classes it loaded instead of reading and verifying them
 * from the jar again.
 *
 * <p>It reads a configuration from a file, as {@code run} does, starts the service with a listener on a free
 * loopback port and a control socket in a directory of its own, makes one connection to that listener (not
 * redirected, so the service closes it after its lookup), and stops. Nothing outside its temporary directory is
 * touched: no firewall rule, no upstream connection, no shared path.
 */
@Command(name = "warm-up", hidden = true, mixinStandardHelpOptions = true,
        description = "Starts the service on loopback, makes one connection to it and stops: the run an install "
                + "step records a class-data archive from.")
final class WarmUpCommand implements Callable<Integer> {

    private static final int BIND_ATTEMPTS = 5;
    private static final Duration CONNECTION_DEADLINE = Duration.ofSeconds(10);

    @ParentCommand
    Main root;

    @Override
    public Integer call() throws IOException, InterruptedException {
        LinuxSockets.bindInBackground();
        root.configureLogging("warn");
        Path directory = Files.createTempDirectory("chainsocks-warm-up");
        try {
            ChainsocksService service = startOnFreePort(directory);
            try {
                connectOnce(service.redirector().boundAddresses().get(0));
            } finally {
                service.shutdown(CONNECTION_DEADLINE); // returns as soon as the refused session has ended
            }
        } finally {
            deleteTree(directory);
        }
        return Main.EXIT_OK;
    }

    /** Another process may take the free port between our look and the service's bind; then it tries again. */
    private static ChainsocksService startOnFreePort(Path directory) throws IOException {
        Path file = directory.resolve("warm-up.toml");
        for (int attempt = 1; ; attempt++) {
            Files.writeString(file, configuration(freeLoopbackPort(), directory.resolve("control.sock")));
            ChainsocksConfig config;
            try {
                config = ConfigLoader.load(file);
            } catch (ConfigException e) {
                throw new IllegalStateException("the warm-up configuration does not load: " + e.getMessage(), e);
            }
            try {
                return ChainsocksService.start(config, () -> ConfigLoader.load(file), null);
            } catch (BindException e) {
                if (attempt == BIND_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    static String configuration(int port, Path controlSocket) {
        return """
                [service]
                log-level = "warn"
                control-socket = "%s"

                [[listener]]
                listen = "127.0.0.1:%d"
                chains = ["warm-up"]

                [chain.warm-up]
                hops = ["socks5://127.0.0.1:1080"]
                """.formatted(controlSocket.toString().replace("\\", "\\\\").replace("\"", "\\\""), port);
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocketChannel probe = ServerSocketChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
    }

    /**
     * Sends a line and reads until the service closes the connection, which it does once the lookup finds it was
     * not redirected. A blocking socket: this is the command's own thread, not an event loop.
     */
    private static void connectOnce(InetSocketAddress listener) throws IOException {
        int deadline = (int) CONNECTION_DEADLINE.toMillis();
        try (Socket client = new Socket()) {
            client.connect(listener, deadline);
            client.setSoTimeout(deadline);
            client.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] sink = new byte[512];
            InputStream in = client.getInputStream();
            while (in.read(sink) >= 0) {
                // Whatever the service answers is dropped until it closes.
            }
        } catch (SocketTimeoutException e) {
            throw new IOException("the service kept the warm-up connection open for " + CONNECTION_DEADLINE
                    .toSeconds() + " s; it should have closed it after the lookup", e);
        } catch (SocketException e) {
            // A reset is as good an end as a close.
        }
    }

    private static void deleteTree(Path directory) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
