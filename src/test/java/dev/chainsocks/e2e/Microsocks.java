package dev.chainsocks.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * microsocks, a minimal SOCKS5 server ({@code microsocks -i addr -p port [-u user -P pass]}), as an upstream hop. It
 * logs {@code client[fd] <ip>: connected to <host>:<port>} per relayed connection.
 */
public final class Microsocks implements AutoCloseable {

    public static final String CONNECT_MARK = ": connected to ";

    private final ManagedProcess process;
    private final Endpoint endpoint;
    private final Credentials credentials;

    private Microsocks(ManagedProcess process, Endpoint endpoint, Credentials credentials) {
        this.process = process;
        this.endpoint = endpoint;
        this.credentials = credentials;
    }

    /** No authentication. */
    public static Microsocks start(Netns netns, Endpoint listen) {
        return start(netns, listen, null);
    }

    /** Username/password authentication when {@code credentials} is not null. */
    public static Microsocks start(Netns netns, Endpoint listen, Credentials credentials) {
        List<String> command = new ArrayList<>(List.of("microsocks", "-i", listen.host(),
                "-p", Integer.toString(listen.port())));
        if (credentials != null) {
            command.addAll(List.of("-u", credentials.user(), "-P", credentials.password()));
        }
        ManagedProcess process = netns.spawnListening("microsocks-" + listen.port(), listen, command);
        return new Microsocks(process, listen, credentials);
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public Credentials credentials() {
        return credentials;
    }

    public long connectionCount() {
        return process.countLogLines(CONNECT_MARK);
    }

    public List<String> awaitConnections(int count, Duration timeout) {
        return process.awaitLogLines(line -> line.contains(CONNECT_MARK), count, timeout);
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop();
    }
}
