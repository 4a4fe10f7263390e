package dev.chainsocks.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * OpenSSH's dynamic forwarding ({@code ssh -D}) as a SOCKS4/5 hop: an {@code sshd} on a non-standard port with its own
 * generated host key and one authorized key, and an {@code ssh -N -D bind:port} client that logs into it as root.
 * Both run in the foreground ({@code sshd -D -e}, {@code ssh -N}) so each PID is the program's own.
 *
 * <p>sshd is told not to use PAM or check file modes, reads no system config ({@code -f} a generated file), and the
 * client ignores user config and known hosts. sshd logs at {@code DEBUG1}, the least verbose level that names each
 * forwarded connection ({@link #FORWARD_MARK}), so a test can tell that ssh carried it. sshd needs its privilege
 * separation directory {@code /run/sshd}, which the Debian service normally creates; it is created here if missing.
 * Stopping ends the client first, so the per-connection sshd child exits with its session before the listener is
 * stopped.
 */
public final class SshDynamicProxy implements AutoCloseable {

    /** sshd's log line for one {@code ssh -D} connection: {@code ...direct_tcpip: originator A port P, target H port Q}. */
    public static final String FORWARD_MARK = "direct_tcpip: originator ";

    private final ManagedProcess sshd;
    private final ManagedProcess client;
    private final Endpoint socks;

    private SshDynamicProxy(ManagedProcess sshd, ManagedProcess client, Endpoint socks) {
        this.sshd = sshd;
        this.client = client;
        this.socks = socks;
    }

    /**
     * Starts sshd in {@code sshdNetns} on {@code sshdEndpoint} and the {@code ssh -D} client in {@code clientNetns},
     * its SOCKS listener on {@code socksBind}.
     */
    public static SshDynamicProxy start(Netns sshdNetns, Endpoint sshdEndpoint, Netns clientNetns, Endpoint socksBind) {
        TestWorkspace workspace = sshdNetns.workspace();
        Path dir = workspace.newDirectory("ssh");
        Path hostKey = dir.resolve("host_ed25519");
        Path clientKey = dir.resolve("client_ed25519");
        Duration timeout = Command.DEFAULT_TIMEOUT;
        Command.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e-host", "-f", hostKey.toString()),
                timeout).requireSuccess();
        Command.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e-client",
                "-f", clientKey.toString()), timeout).requireSuccess();
        Path authorized = dir.resolve("authorized_keys");
        Command.run(List.of("cp", clientKey + ".pub", authorized.toString()), timeout).requireSuccess();
        Prerequisites.createDirectories(Path.of("/run/sshd"));

        String conf = String.join("\n",
                "Port " + sshdEndpoint.port(),
                "ListenAddress " + sshdEndpoint.host(),
                "HostKey " + hostKey,
                "PidFile " + dir.resolve("sshd.pid"),
                "AuthorizedKeysFile " + authorized,
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "AllowTcpForwarding yes",
                "LogLevel DEBUG1",
                "");
        Path confFile = workspace.writeFile(dir, "sshd_config", conf);
        String sshdPath = Prerequisites.locate("sshd").map(Path::toString).orElse("/usr/sbin/sshd");
        ManagedProcess sshd = sshdNetns.spawnListening("sshd-" + sshdEndpoint.port(), sshdEndpoint,
                List.of(sshdPath, "-D", "-e", "-f", confFile.toString()));
        ManagedProcess client = null;
        boolean success = false;
        try {
            client = clientNetns.spawnListening("ssh-D-" + socksBind.port(), socksBind, List.of(
                    "ssh", "-F", "/dev/null", "-N", "-D", socksBind.toString(),
                    "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "ServerAliveInterval=10", "-o", "LogLevel=ERROR",
                    "-i", clientKey.toString(), "-p", Integer.toString(sshdEndpoint.port()),
                    "root@" + sshdEndpoint.host()));
            success = true;
            return new SshDynamicProxy(sshd, client, socksBind);
        } finally {
            if (!success) {
                if (client != null) {
                    client.stop();
                }
                sshd.stop();
            }
        }
    }

    /** Where the SOCKS service listens. */
    public Endpoint endpoint() {
        return socks;
    }

    public ManagedProcess sshd() {
        return sshd;
    }

    public ManagedProcess client() {
        return client;
    }

    @Override
    public void close() {
        try {
            client.stop();
        } finally {
            sshd.stop();
        }
    }
}
