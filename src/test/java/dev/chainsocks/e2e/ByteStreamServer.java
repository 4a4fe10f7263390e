package dev.chainsocks.e2e;

import java.time.Duration;
import java.util.List;

/**
 * A TCP server for byte-stream checks (see {@link ByteStreamClient}): echoes data back, or reads to the client's
 * half-close and then replies. One log line per connection with the peer address, byte counts and outcome, e.g.
 * {@code conn peer=198.19.2.1 mode=echo received=52428800 sent=52428800 sha256_in=... outcome=ok}.
 */
public final class ByteStreamServer implements AutoCloseable {

    private final ManagedProcess process;
    private final int port;

    private ByteStreamServer(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Listens on all addresses (IPv4 and IPv6) of {@code netns}. */
    public static ByteStreamServer start(Netns netns, int port) {
        String script = ByteStreamScript.writeTo(netns.workspace()).toString();
        ManagedProcess process = netns.spawn("bytestream-" + port, Prerequisites.PYTHON, "-u", script, "server",
                "--bind", "::", "--port", Integer.toString(port));
        process.waitForPort("::", port, Duration.ofSeconds(20));
        return new ByteStreamServer(process, port);
    }

    public int port() {
        return port;
    }

    public Endpoint endpoint(String host) {
        return Endpoint.of(host, port);
    }

    /** The per-connection lines logged so far. */
    public List<String> connectionLines() {
        return process.logLines().stream().filter(line -> line.startsWith("conn ")).toList();
    }

    /** Waits until {@code count} connections have finished and returns their lines. */
    public List<String> awaitConnections(int count, Duration timeout) {
        return process.awaitLogLines(line -> line.startsWith("conn "), count, timeout);
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop();
    }
}
