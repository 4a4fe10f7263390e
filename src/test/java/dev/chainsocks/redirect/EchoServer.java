package dev.chainsocks.redirect;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The destination in dial and redirect tests: a loopback server that sends back every byte it receives. When its
 * client half-closes it finishes sending, half-closes too and then closes, so a test can read to EOF and know the
 * EOF travelled both ways. Counts its connections; exceptions from its threads are kept for
 * {@link #checkExceptions()}.
 */
final class EchoServer implements AutoCloseable {

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "echo-server");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicInteger accepted = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final List<Throwable> problems = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    EchoServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    /** Connections not yet closed by this side. */
    int openConnections() {
        return open.size();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    problems.add(e);
                }
                return;
            }
            accepted.incrementAndGet();
            open.add(socket);
            threads.execute(() -> echo(socket));
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
        } catch (SocketException e) {
            // the client reset or went away: its business, not a fault of the echo
        } catch (IOException e) {
            if (!closed) {
                problems.add(e);
            }
        } finally {
            open.remove(socket);
        }
    }

    /** Rethrows what went wrong on the server's threads, so the test that caused it fails. */
    void checkExceptions() {
        if (!problems.isEmpty()) {
            AssertionError error = new AssertionError("echo server " + port() + " failed: " + problems.get(0));
            problems.forEach(error::addSuppressed);
            throw error;
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket socket : new ArrayList<>(open)) {
            socket.close();
        }
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
