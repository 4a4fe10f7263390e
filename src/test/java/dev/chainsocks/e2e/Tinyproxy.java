package dev.chainsocks.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Tinyproxy as an HTTP CONNECT hop ({@code tinyproxy -d -c conf}, foreground).
 *
 * <p>The generated config has no {@code Allow} lines (every client allowed) and no {@code ConnectPort} lines, which
 * in tinyproxy 1.11 means CONNECT is allowed to every port (the packaged default config limits it to 443 and 563).
 * With credentials it sets {@code BasicAuth user password}: a CONNECT without them gets {@code 401}. It logs
 * {@code Request (file descriptor N): CONNECT host:port HTTP/1.1} per tunnel.
 */
public final class Tinyproxy implements AutoCloseable {

    public static final String CONNECT_MARK = ": CONNECT ";

    private final ManagedProcess process;
    private final Endpoint endpoint;
    private final Credentials credentials;

    private Tinyproxy(ManagedProcess process, Endpoint endpoint, Credentials credentials) {
        this.process = process;
        this.endpoint = endpoint;
        this.credentials = credentials;
    }

    /** Listens on {@code listen}; requires Basic proxy authentication when {@code credentials} is not null. */
    public static Tinyproxy start(Netns netns, Endpoint listen, Credentials credentials) {
        return start(netns, listen, credentials, List.of());
    }

    /**
     * As {@link #start(Netns, Endpoint, Credentials)}, with {@code extraLines} appended to the configuration, such
     * as {@code ConnectPort 443} (CONNECT only to port 443).
     */
    public static Tinyproxy start(Netns netns, Endpoint listen, Credentials credentials, List<String> extraLines) {
        TestWorkspace workspace = netns.workspace();
        Path dir = workspace.newDirectory("tinyproxy");
        StringBuilder conf = new StringBuilder()
                .append("Port ").append(listen.port()).append('\n')
                .append("Listen ").append(listen.host()).append('\n')
                .append("Timeout 120\n")
                .append("MaxClients 100\n")
                .append("LogLevel Connect\n")
                .append("DisableViaHeader Yes\n")
                .append("PidFile \"").append(dir.resolve("tinyproxy.pid")).append("\"\n");
        if (credentials != null) {
            conf.append("BasicAuth ").append(credentials.user()).append(' ').append(credentials.password()).append('\n');
        }
        extraLines.forEach(line -> conf.append(line).append('\n'));
        Path file = workspace.writeFile(dir, "tinyproxy.conf", conf.toString());
        ManagedProcess process = netns.spawnListening("tinyproxy-" + listen.port(), listen,
                List.of("tinyproxy", "-d", "-c", file.toString()));
        return new Tinyproxy(process, listen, credentials);
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public Credentials credentials() {
        return credentials;
    }

    public long connectCount() {
        return process.countLogLines(CONNECT_MARK);
    }

    public List<String> awaitConnects(int count, Duration timeout) {
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
