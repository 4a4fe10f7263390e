package dev.chainsocks.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * redsocks, the established C transparent redirector, for comparison with chainsocks: it accepts REDIRECTed
 * connections on {@code local}, reads SO_ORIGINAL_DST ({@code redirector = iptables}) and opens them through one
 * upstream proxy. IPv4 only. Runs in the foreground ({@code daemon = off}) logging to stderr.
 */
public final class Redsocks implements AutoCloseable {

    /** redsocks' names for upstream protocols. */
    public enum Type {
        SOCKS4("socks4"), SOCKS5("socks5"), HTTP_CONNECT("http-connect");

        private final String configName;

        Type(String configName) {
            this.configName = configName;
        }
    }

    private final ManagedProcess process;
    private final Endpoint local;

    private Redsocks(ManagedProcess process, Endpoint local) {
        this.process = process;
        this.local = local;
    }

    /**
     * Starts redsocks in {@code netns} on {@code local} (use 0.0.0.0 so PREROUTING REDIRECT, which targets the
     * incoming interface's address, reaches it) relaying through {@code upstream}.
     */
    public static Redsocks start(Netns netns, Endpoint local, Type type, Endpoint upstream, Credentials credentials) {
        return startAs(null, netns, local, type, upstream, credentials);
    }

    /**
     * As {@link #start}, but running as {@code user} (when not null) through {@code setpriv}: for local mode, where the
     * redirector's own upstream connections are exempted from the OUTPUT redirect by uid.
     */
    public static Redsocks startAs(SystemUser user, Netns netns, Endpoint local, Type type, Endpoint upstream,
                                   Credentials credentials) {
        TestWorkspace workspace = netns.workspace();
        Path dir = workspace.newDirectory("redsocks");
        StringBuilder conf = new StringBuilder()
                .append("base {\n  log_debug = off;\n  log_info = on;\n  log = stderr;\n  daemon = off;\n")
                .append("  redirector = iptables;\n}\n")
                .append("redsocks {\n")
                .append("  local_ip = ").append(local.host()).append(";\n")
                .append("  local_port = ").append(local.port()).append(";\n")
                .append("  ip = ").append(upstream.host()).append(";\n")
                .append("  port = ").append(upstream.port()).append(";\n")
                .append("  type = ").append(type.configName).append(";\n");
        if (credentials != null) {
            conf.append("  login = \"").append(credentials.user()).append("\";\n")
                    .append("  password = \"").append(credentials.password()).append("\";\n");
        }
        conf.append("}\n");
        Path file = workspace.writeFile(dir, "redsocks.conf", conf.toString());
        List<String> command = new ArrayList<>();
        if (user != null) {
            // The user may not reach the checkout: it reads a copy in the runtime directory.
            file = workspace.stageReadable(file, workspace.newRuntimeDirectory("redsocks"));
            command.addAll(user.runAs());
        }
        command.addAll(List.of("redsocks", "-c", file.toString()));
        ManagedProcess process = netns.spawnListening("redsocks-" + local.port(), local, command);
        return new Redsocks(process, local);
    }

    public Endpoint endpoint() {
        return local;
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop();
    }
}
