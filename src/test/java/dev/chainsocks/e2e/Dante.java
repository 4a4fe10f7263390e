package dev.chainsocks.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Dante ({@code danted}), a SOCKS4 and SOCKS5 server, as an upstream hop.
 *
 * <p>Runs in the foreground (no {@code -D}), so the PID the test holds is Dante's "mother" process; SIGTERM to it also
 * ends the worker processes it forked. Username authentication ({@code socksmethod: username}) checks the system
 * password database — Dante 1.4 has no password-file method — so {@link #requireUsername(SystemUser)} takes a throwaway
 * {@link SystemUser}. SOCKS4 has no password, so such an instance only answers SOCKS5 clients that authenticate.
 *
 * <p>Dante 1.4.2 does not implement SOCKS4a: a request for 0.0.0.x with a host name is taken as a literal address and
 * fails ("Network is unreachable"). Use {@link SshDynamicProxy} for a SOCKS4a peer.
 *
 * <p>Log lines with {@code tcp/connect [:} mark a relayed connection starting; {@link #connectionCount()} counts them.
 */
public final class Dante implements AutoCloseable {

    public static final String CONNECT_MARK = "tcp/connect [:";

    private final Netns netns;
    private final List<Endpoint> listen = new ArrayList<>();
    private String externalInterface;
    private SystemUser user;
    private boolean udp;
    private ManagedProcess process;

    private Dante(Netns netns) {
        this.netns = netns;
    }

    public static Dante in(Netns netns) {
        return new Dante(netns);
    }

    /** Adds a listening address ({@code internal:}); IPv4 and IPv6 may both be given. */
    public Dante listen(String host, int port) {
        listen.add(Endpoint.of(host, port));
        return this;
    }

    /** Interface whose addresses outgoing connections use ({@code external:}), e.g. {@code wan0}. */
    public Dante external(String iface) {
        this.externalInterface = iface;
        return this;
    }

    /** Requires SOCKS5 username/password authentication as {@code user}. */
    public Dante requireUsername(SystemUser user) {
        this.user = user;
        return this;
    }

    /** Also allows SOCKS5 UDP ASSOCIATE, and the datagrams coming back ({@code udpassociate}, {@code udpreply}). */
    public Dante allowUdp() {
        this.udp = true;
        return this;
    }

    public Dante start() {
        if (listen.isEmpty() || externalInterface == null) {
            throw new IllegalStateException("Dante needs at least one listen address and an external interface");
        }
        TestWorkspace workspace = netns.workspace();
        Path dir = workspace.newDirectory("dante");
        StringBuilder conf = new StringBuilder("logoutput: stderr\n");
        for (Endpoint endpoint : listen) {
            conf.append("internal: ").append(endpoint.host()).append(" port = ").append(endpoint.port()).append('\n');
        }
        conf.append("external: ").append(externalInterface).append('\n')
                .append("clientmethod: none\n")
                .append("socksmethod: ").append(user == null ? "none" : "username").append('\n')
                .append("user.privileged: root\n")
                .append("user.unprivileged: nobody\n")
                .append("client pass {\n  from: 0/0 to: 0/0\n  log: error\n}\n")
                .append("socks pass {\n  from: 0/0 to: 0/0\n  command: connect")
                .append(udp ? " udpassociate udpreply" : "")
                .append("\n  log: connect disconnect error\n}\n");
        Path file = workspace.writeFile(dir, "danted.conf", conf.toString());
        process = netns.spawn("dante-" + listen.get(0).port(), "danted", "-f", file.toString(),
                "-p", dir.resolve("danted.pid").toString());
        for (Endpoint endpoint : listen) {
            process.waitForPort(endpoint, Duration.ofSeconds(20));
        }
        return this;
    }

    public Endpoint endpoint() {
        return listen.get(0);
    }

    public List<Endpoint> endpoints() {
        return List.copyOf(listen);
    }

    /** Credentials to offer, if {@link #requireUsername(SystemUser)} was used. */
    public Credentials credentials() {
        return user == null ? null : user.credentials();
    }

    public long connectionCount() {
        return process.countLogLines(CONNECT_MARK);
    }

    /** Waits until at least {@code count} relayed connections have been logged. */
    public List<String> awaitConnections(int count, Duration timeout) {
        return process.awaitLogLines(line -> line.contains(CONNECT_MARK), count, timeout);
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        if (process != null) {
            process.stop();
        }
    }
}
