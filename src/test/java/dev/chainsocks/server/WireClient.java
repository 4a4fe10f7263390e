package dev.chainsocks.server;

import dev.chainsocks.proto.Hex;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * A blocking client that speaks raw bytes to the proxy, so protocol tests state the wire format as hex instead of
 * checking the codecs against themselves. Every read has a deadline.
 */
final class WireClient implements AutoCloseable {

    static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;
    private final InputStream in;

    private WireClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
        socket.setTcpNoDelay(true);
    }

    static WireClient connect(InetSocketAddress proxy) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(proxy, (int) READ_TIMEOUT.toMillis());
            return new WireClient(socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    static WireClient connect(SocksServer server) throws IOException {
        return connect(server.boundAddresses().get(0));
    }

    Socket socket() {
        return socket;
    }

    /** Sends a hex vector such as {@code "05 01 00"}; {@code 'text'} inside it is ASCII. */
    WireClient send(String hex) throws IOException {
        return send(Hex.bytes(hex));
    }

    WireClient send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return this;
    }

    /** Exactly {@code n} bytes, or an AssertionError saying what came and what did not. */
    byte[] read(int n) throws IOException {
        byte[] bytes = new byte[n];
        int got = 0;
        try {
            while (got < n) {
                int r = in.read(bytes, got, n - got);
                if (r < 0) {
                    throw new AssertionError("connection closed after " + got + " of " + n + " bytes: "
                            + Hex.of(Arrays.copyOf(bytes, got)));
                }
                got += r;
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("only " + got + " of " + n + " bytes within " + READ_TIMEOUT + ": "
                    + Hex.of(Arrays.copyOf(bytes, got)), e);
        }
        return bytes;
    }

    /** The next {@code n} bytes as {@code "05 00"}, ready to compare with {@link Hex#normalized}. */
    String readHex(int n) throws IOException {
        return Hex.of(read(n));
    }

    /** Everything until the proxy closes the connection. */
    byte[] readToEnd() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[16 * 1024];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                all.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no end of stream within " + READ_TIMEOUT + " after " + all.size() + " bytes", e);
        }
        return all.toByteArray();
    }

    String readToEndAscii() throws IOException {
        return new String(readToEnd(), StandardCharsets.UTF_8);
    }

    /**
     * Waits until the proxy closes the connection and returns how: {@code "eof"} or {@code "reset"}. Fails if a byte
     * arrives instead, or nothing happens within {@code deadline}.
     */
    String awaitClose(Duration deadline) throws IOException {
        socket.setSoTimeout((int) deadline.toMillis());
        try {
            int b = in.read();
            if (b >= 0) {
                byte[] more = new byte[Math.min(in.available(), 64)];
                int n = in.read(more);
                throw new AssertionError("expected the proxy to close, got bytes: " + String.format("%02x ", b)
                        + Hex.of(Arrays.copyOf(more, Math.max(n, 0))));
            }
            return "eof";
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the proxy did not close the connection within " + deadline, e);
        } catch (SocketException e) {
            return "reset";
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
            }
        }
    }

    /** "eof" or "reset" when the proxy closes the connection within {@code wait}, null while it stays open. */
    String closedWithin(Duration wait) throws IOException {
        socket.setSoTimeout((int) wait.toMillis());
        try {
            int b = in.read();
            if (b >= 0) {
                throw new AssertionError("expected the proxy to close or stay silent, got byte " + String.format("%02x", b));
            }
            return "eof";
        } catch (SocketTimeoutException e) {
            return null;
        } catch (SocketException e) {
            return "reset";
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
            }
        }
    }

    String awaitClose() throws IOException {
        return awaitClose(READ_TIMEOUT);
    }

    /** True if nothing arrives within {@code quiet} (and the connection stays open). */
    boolean silentFor(Duration quiet) throws IOException {
        socket.setSoTimeout((int) quiet.toMillis());
        try {
            in.read();
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } finally {
            socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    // --- address fields as hex ---

    /** {@code 7f 00 00 01} for 127.0.0.1; 16 bytes for IPv6. */
    static String ip(InetAddress address) {
        return Hex.of(address.getAddress());
    }

    /** A port as two bytes in network order, {@code 1f 90} for 8080. */
    static String port(int port) {
        return Hex.of(ByteBuffer.allocate(2).putShort((short) port).array());
    }

    /** A SOCKS5 address field for an IP socket address: ATYP, address, port. */
    static String socks5Address(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        return (ip.getAddress().length == 4 ? "01 " : "04 ") + ip(ip) + " " + port(address.getPort());
    }

    /** The port in bytes {@code [offset, offset + 2)}, network order. */
    static int portAt(byte[] bytes, int offset) {
        return ((bytes[offset] & 0xff) << 8) | (bytes[offset + 1] & 0xff);
    }
}
