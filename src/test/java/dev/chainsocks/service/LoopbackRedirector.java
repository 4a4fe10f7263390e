package dev.chainsocks.service;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ConfigException;
import dev.chainsocks.config.ConfigLoader;
import dev.chainsocks.redirect.OriginalDestinationLookup;
import dev.chainsocks.redirect.Redirector;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real {@link Redirector} on loopback for the report tests: one listener with a direct chain, whose "original
 * destination" is fixed to an echo server in this JVM (or to a closed port, to make dials fail). No netfilter, no
 * root. Exceptions in the echo threads are kept and rethrown by {@link #close()}.
 */
final class LoopbackRedirector implements AutoCloseable {

    private final ServerSocket echo;
    private final InetSocketAddress destination;
    private final Redirector redirector;
    private final List<Throwable> echoFailures = new CopyOnWriteArrayList<>();

    private LoopbackRedirector(ServerSocket echo, InetSocketAddress destination) throws IOException, ConfigException {
        this.echo = echo;
        this.destination = destination;
        int port = freeLoopbackPort();
        ChainsocksConfig config = ConfigLoader.parse(String.join("\n",
                "[[listener]]",
                "listen = \"127.0.0.1:" + port + "\"",
                "chains = [\"direct\"]",
                "policy = \"strict\"",
                "",
                "[chain.direct]",
                "hops = []",
                ""), Path.of("report-test.toml"));
        OriginalDestinationLookup fixed = new OriginalDestinationLookup() {
            @Override
            public InetSocketAddress lookup(SocketChannel accepted) {
                return destination;
            }

            @Override
            public String toString() {
                return "fixed destination " + AddressSyntax.format(destination);
            }
        };
        this.redirector = Redirector.start(config, kind -> fixed);
    }

    /** Sessions reach an echo server: every byte sent comes back, and EOF is answered with EOF. */
    static LoopbackRedirector toEchoServer() throws IOException, ConfigException {
        ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        LoopbackRedirector fixture = new LoopbackRedirector(echo,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort()));
        Thread acceptor = new Thread(fixture::echoLoop, "echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return fixture;
    }

    /** Sessions are sent to a loopback port where nothing listens, so every dial fails. */
    static LoopbackRedirector toClosedPort() throws IOException, ConfigException {
        int closed = freeLoopbackPort();
        return new LoopbackRedirector(null, new InetSocketAddress(InetAddress.getLoopbackAddress(), closed));
    }

    Redirector redirector() {
        return redirector;
    }

    /** Where every session is sent: the echo server, or the closed port. */
    InetSocketAddress echoAddress() {
        return destination;
    }

    InetSocketAddress listener() {
        return redirector.boundAddresses().get(0);
    }

    /** A client connected to the listener. */
    Socket connect() throws IOException {
        Socket client = new Socket();
        client.connect(listener(), 5_000);
        client.setSoTimeout(5_000);
        return client;
    }

    /** Waits until no session is live (the session's end is recorded on its event loop, after the close). */
    void awaitIdle() {
        Eventually.noneActive("live sessions", redirector::activeSessions);
    }

    private void echoLoop() {
        while (!echo.isClosed()) {
            Socket peer;
            try {
                peer = echo.accept();
            } catch (IOException closed) {
                return;
            }
            Thread thread = new Thread(() -> echo(peer), "echo");
            thread.setDaemon(true);
            thread.start();
        }
    }

    private void echo(Socket peer) {
        try (peer; InputStream in = peer.getInputStream(); OutputStream out = peer.getOutputStream()) {
            in.transferTo(out);
            peer.shutdownOutput();
        } catch (IOException e) {
            echoFailures.add(e);
        }
    }

    @Override
    public void close() throws IOException {
        redirector.close();
        if (echo != null) {
            echo.close();
        }
        if (!echoFailures.isEmpty()) {
            AssertionError failure = new AssertionError("the echo server failed");
            echoFailures.forEach(failure::addSuppressed);
            throw failure;
        }
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
