package dev.chainsocks.redirect;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted proxy for dial tests: a blocking loopback server whose every connection runs one {@link Script}. It
 * speaks the server side in raw bytes (not through the product's codecs), counts its connections, records each
 * CONNECT request it read, and keeps what went wrong on its threads for {@link #checkExceptions()}.
 *
 * <p>Modes, after Netty's {@code ProxyHandlerTest} and x/net's {@code dial_test.go}:
 * <ul>
 *   <li>{@link #terminal}: grants the request, then connects to the requested address for real (so it can be
 *       an inner hop) or echoes; may send early data in the same write as its final reply;
 *   <li>{@link #refusing}: a well-formed SOCKS5 refusal, reply code 0x05;
 *   <li>{@link #unresponsive}: accepts and reads, never answers;
 *   <li>{@link #rogue}: answers each client message with scripted bytes (garbage, a wrong version, a truncated
 *       reply), optionally closing right after the last.
 * </ul>
 * The intermediary mode is the real bundled server ({@code SocksServer}).
 */
final class FakeProxy implements AutoCloseable {

    /** Which protocol the fake speaks; the scheme in hop URIs. */
    enum Protocol {
        SOCKS4("socks4"), SOCKS5("socks5"), HTTP("http");

        final String scheme;

        Protocol(String scheme) {
            this.scheme = scheme;
        }
    }

    /** What the terminal mode does once it has granted the request. */
    enum Then { CONNECT, ECHO }

    /**
     * One request as read off the wire. {@code addressType} is the SOCKS5 ATYP byte (0x01, 0x03, 0x04); for
     * SOCKS4 0x01 for an address and 0x03 for a SOCKS4a name; for HTTP 0x03 when the authority is a name and 0x01
     * otherwise.
     */
    record Request(Protocol protocol, int addressType, String host, int port) {
    }

    /** What one connection gets. */
    @FunctionalInterface
    interface Script {
        void serve(Socket socket, FakeProxy proxy) throws IOException;
    }

    private final String name;
    private final Script script;
    private final ServerSocket server;
    private final ExecutorService threads;
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final List<Throwable> problems = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private FakeProxy(String name, Script script) throws IOException {
        this.name = name;
        this.script = script;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.threads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "fake-proxy " + name + " " + server.getLocalPort());
            thread.setDaemon(true);
            return thread;
        });
        threads.execute(this::acceptLoop);
    }

    /** Grants every request, then connects to the destination for real or echoes; {@code early} follows the reply. */
    static FakeProxy terminal(Protocol protocol, Then then, byte[] early) throws IOException {
        return new FakeProxy(protocol.scheme + " terminal", (socket, proxy) -> {
            Request request = proxy.readRequest(protocol, socket);
            Socket upstream = null;
            if (then == Then.CONNECT) {
                try {
                    upstream = new Socket(request.host(), request.port());
                } catch (IOException e) {
                    socket.getOutputStream().write(refusal(protocol));
                    return;
                }
                proxy.open.add(upstream);
            }
            socket.getOutputStream().write(concat(grant(protocol), early));
            if (upstream == null) {
                proxy.echo(socket);
            } else {
                proxy.relay(socket, upstream);
            }
        });
    }

    static FakeProxy terminal(Protocol protocol, Then then) throws IOException {
        return terminal(protocol, then, new byte[0]);
    }

    /** SOCKS5: accepts no authentication, reads the request, answers CONNECTION_REFUSED (0x05). */
    static FakeProxy refusing() throws IOException {
        return new FakeProxy("socks5 refusing", (socket, proxy) -> {
            proxy.readRequest(Protocol.SOCKS5, socket);
            socket.getOutputStream().write(refusal(Protocol.SOCKS5));
            proxy.drain(socket);
        });
    }

    /** Accepts and reads whatever comes until the client hangs up; never writes a byte. */
    static FakeProxy unresponsive() throws IOException {
        return new FakeProxy("unresponsive", (socket, proxy) -> proxy.drain(socket));
    }

    /**
     * Reads the client's messages of {@code protocol} (SOCKS5: greeting, then request; SOCKS4 and HTTP: the
     * request) and answers the n-th with {@code hexReplies[n]}. Then closes at once when {@code thenClose}, else
     * waits for the client to hang up.
     */
    static FakeProxy rogue(Protocol protocol, boolean thenClose, String... hexReplies) throws IOException {
        return new FakeProxy(protocol.scheme + " rogue", (socket, proxy) -> {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < hexReplies.length; i++) {
                if (protocol == Protocol.SOCKS5 && i == 0) {
                    readSocks5Greeting(in);
                } else {
                    proxy.requests.add(switch (protocol) {
                        case SOCKS5 -> readSocks5Request(in);
                        case SOCKS4 -> readSocks4Request(in);
                        case HTTP -> readHttpRequest(in);
                    });
                }
                out.write(HexFormat.of().parseHex(hexReplies[i].replace(" ", "")));
            }
            if (!thenClose) {
                proxy.drain(socket);
            }
        });
    }

    String name() {
        return name;
    }

    int port() {
        return server.getLocalPort();
    }

    /** The URI of this fake as a hop: {@code socks5://127.0.0.1:PORT}. */
    String uri(Protocol protocol) {
        return protocol.scheme + "://127.0.0.1:" + port();
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    /** The requests read so far, in order. */
    List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Sockets (client side and, for CONNECT, upstream) this fake has not closed yet. */
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
            threads.execute(() -> {
                try (socket) {
                    script.serve(socket, this);
                } catch (IOException | RuntimeException e) {
                    if (!closed) {
                        problems.add(new AssertionError(name + " " + port() + ": " + e, e));
                    }
                } finally {
                    open.remove(socket);
                }
            });
        }
    }

    private Request readRequest(Protocol protocol, Socket socket) throws IOException {
        DataInputStream in = new DataInputStream(socket.getInputStream());
        Request request;
        switch (protocol) {
            case SOCKS5 -> {
                readSocks5Greeting(in);
                socket.getOutputStream().write(new byte[] {5, 0});
                request = readSocks5Request(in);
            }
            case SOCKS4 -> request = readSocks4Request(in);
            case HTTP -> request = readHttpRequest(in);
            default -> throw new IllegalStateException();
        }
        requests.add(request);
        return request;
    }

    private static void readSocks5Greeting(DataInputStream in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != 5) {
            throw new IOException("SOCKS5 greeting with version " + version);
        }
        int methods = in.readUnsignedByte();
        in.readNBytes(methods);
    }

    private static Request readSocks5Request(DataInputStream in) throws IOException {
        byte[] head = readExactly(in, 4);
        if (head[0] != 5 || head[1] != 1) {
            throw new IOException("not a SOCKS5 CONNECT: " + HexFormat.of().formatHex(head));
        }
        int type = head[3] & 0xff;
        String host = switch (type) {
            case 1 -> InetAddress.getByAddress(readExactly(in, 4)).getHostAddress();
            case 4 -> InetAddress.getByAddress(readExactly(in, 16)).getHostAddress();
            case 3 -> new String(readExactly(in, in.readUnsignedByte()), StandardCharsets.US_ASCII);
            default -> throw new IOException("SOCKS5 address type " + type);
        };
        return new Request(Protocol.SOCKS5, type, host, in.readUnsignedShort());
    }

    private static Request readSocks4Request(DataInputStream in) throws IOException {
        byte[] head = readExactly(in, 8);
        if (head[0] != 4 || head[1] != 1) {
            throw new IOException("not a SOCKS4 CONNECT: " + HexFormat.of().formatHex(head));
        }
        int port = ((head[2] & 0xff) << 8) | (head[3] & 0xff);
        byte[] ip = {head[4], head[5], head[6], head[7]};
        readNulTerminated(in);
        if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0) {
            return new Request(Protocol.SOCKS4, 3, readNulTerminated(in), port);
        }
        return new Request(Protocol.SOCKS4, 1, InetAddress.getByAddress(ip).getHostAddress(), port);
    }

    private static Request readHttpRequest(DataInputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            head.write(in.readUnsignedByte());
        }
        String line = head.toString(StandardCharsets.ISO_8859_1).split("\r\n", 2)[0];
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[0].equals("CONNECT")) {
            throw new IOException("not an HTTP CONNECT: " + line);
        }
        String authority = parts[1];
        int colon = authority.lastIndexOf(':');
        String host = authority.substring(0, colon);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        boolean literal = host.contains(":") || host.matches("[0-9.]+");
        return new Request(Protocol.HTTP, literal ? 1 : 3, host, Integer.parseInt(authority.substring(colon + 1)));
    }

    private static String readNulTerminated(DataInputStream in) throws IOException {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        int b;
        while ((b = in.readUnsignedByte()) != 0) {
            text.write(b);
        }
        return text.toString(StandardCharsets.US_ASCII);
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length != n) {
            throw new EOFException("the client closed after " + bytes.length + " of " + n + " bytes");
        }
        return bytes;
    }

    private static byte[] grant(Protocol protocol) {
        return switch (protocol) {
            case SOCKS5 -> new byte[] {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
            case SOCKS4 -> new byte[] {0, 0x5a, 0, 0, 0, 0, 0, 0};
            case HTTP -> "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        };
    }

    private static byte[] refusal(Protocol protocol) {
        return switch (protocol) {
            case SOCKS5 -> new byte[] {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};
            case SOCKS4 -> new byte[] {0, 0x5b, 0, 0, 0, 0, 0, 0};
            case HTTP -> "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        };
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    /** Reads until the client hangs up (EOF or reset); what it sends is ignored. */
    private void drain(Socket socket) throws IOException {
        try {
            socket.getInputStream().transferTo(OutputStream.nullOutputStream());
        } catch (SocketException e) {
            // a reset from the client ends it too
        }
    }

    private void echo(Socket socket) throws IOException {
        try {
            socket.getInputStream().transferTo(socket.getOutputStream());
            socket.shutdownOutput();
        } catch (SocketException e) {
            // the client reset the tunnel: the dial is over, nothing for the fake to report
        }
    }

    /** Copies both ways; EOF on one side becomes shutdownOutput on the other. */
    private void relay(Socket client, Socket upstream) throws IOException {
        try (upstream) {
            var down = threads.submit(() -> {
                copyThenShutdown(upstream, client);
                return null;
            });
            copyThenShutdown(client, upstream);
            try {
                down.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IOException("relay to " + upstream.getRemoteSocketAddress() + " failed", e);
            }
        } finally {
            open.remove(upstream);
        }
    }

    private static void copyThenShutdown(Socket from, Socket to) throws IOException {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
            to.shutdownOutput();
        } catch (SocketException e) {
            // one side reset or was closed: the other copy ends when its socket closes
            from.close();
            to.close();
        }
    }

    /** Rethrows what went wrong on the fake's threads, so the test that caused it fails. */
    void checkExceptions() {
        if (!problems.isEmpty()) {
            AssertionError error = new AssertionError("fake proxy " + name + " " + port() + " failed: "
                    + problems.get(0));
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

    @Override
    public String toString() {
        return name + " on " + new InetSocketAddress(InetAddress.getLoopbackAddress(), port());
    }
}
