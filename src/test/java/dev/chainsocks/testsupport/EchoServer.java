package dev.chainsocks.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP echo peer on a loopback address: sends back every byte it gets; on EOF it half-closes its side, so a
 * client that shut down its output still receives the whole echo. Counts connections and remembers where each
 * came from (the proxy's side of the relay).
 */
public final class EchoServer implements AutoCloseable {

    private final ServerSocket listener;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Queue<InetSocketAddress> peers = new ConcurrentLinkedQueue<>();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final AtomicInteger brokenConnections = new AtomicInteger();
    private volatile boolean closing;

    private EchoServer(ServerSocket listener) {
        this.listener = listener;
        this.acceptor = new Thread(this::acceptLoop, "echo-accept " + listener.getLocalSocketAddress());
        this.acceptor.setDaemon(true);
    }

    public static EchoServer start(InetAddress address) throws IOException {
        ServerSocket listener = new ServerSocket();
        listener.bind(new InetSocketAddress(address, 0), 512);
        EchoServer server = new EchoServer(listener);
        server.acceptor.start();
        return server;
    }

    public int port() {
        return listener.getLocalPort();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** Connections accepted so far. */
    public int connections() {
        return peers.size();
    }

    /** Where the accepted connections came from, in order. */
    public List<InetSocketAddress> peers() {
        return List.copyOf(peers);
    }

    /** Connections not yet closed on the echo side. */
    public int openConnections() {
        return open.size();
    }

    /** Connections that ended with a reset or another I/O error instead of a clean EOF. */
    public int brokenConnections() {
        return brokenConnections.get();
    }

    private void acceptLoop() {
        while (!closing) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (!closing) {
                    failures.add(e);
                }
                return;
            }
            peers.add((InetSocketAddress) socket.getRemoteSocketAddress());
            open.add(socket);
            Thread echo = new Thread(() -> echo(socket), "echo " + socket.getRemoteSocketAddress());
            echo.setDaemon(true);
            echo.start();
        }
    }

    private void echo(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
            socket.shutdownOutput();
        } catch (IOException e) {
            brokenConnections.incrementAndGet();
        } catch (RuntimeException | Error e) {
            failures.add(e);
        } finally {
            open.remove(socket);
        }
    }

    @Override
    public void close() throws IOException {
        closing = true;
        listener.close();
        for (Socket socket : open) {
            socket.close();
        }
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError("echo server on " + address() + " failed");
            failures.forEach(error::addSuppressed);
            throw error;
        }
    }
}
