package dev.chainsocks.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * PuTTY's dynamic forwarding ({@code plink -D}, Debian's putty-tools) as a SOCKS hop: an OpenSSH {@code sshd} with a
 * generated host key and one authorized key, and a {@code plink -N -D 127.0.0.1:port} client that logs into it as root.
 *
 * <p>plink serves SOCKS to loopback clients only (PuTTY's "local ports accept connections from other hosts" is off
 * and has no command-line switch), so it runs in the namespace of its SOCKS client. It must never prompt:
 * {@code -batch}, {@code -hostkey} with the sshd key's SHA-256 fingerprint, and key authentication with the client
 * key converted to PuTTY's format by {@code puttygen}. sshd logs each forwarded connection at {@code DEBUG1}
 * ({@link SshDynamicProxy#FORWARD_MARK}). Stopping ends plink first, then sshd.
 */
public final class PlinkDynamicProxy implements AutoCloseable {

    private final ManagedProcess sshd;
    private final ManagedProcess plink;
    private final Endpoint socks;

    private PlinkDynamicProxy(ManagedProcess sshd, ManagedProcess plink, Endpoint socks) {
        this.sshd = sshd;
        this.plink = plink;
        this.socks = socks;
    }

    /** sshd in {@code sshdNetns} on {@code sshdEndpoint}; plink in {@code clientNetns}, SOCKS on 127.0.0.1:socksPort. */
    public static PlinkDynamicProxy start(Netns sshdNetns, Endpoint sshdEndpoint, Netns clientNetns, int socksPort) {
        TestWorkspace workspace = sshdNetns.workspace();
        Path dir = workspace.newDirectory("plink");
        Path hostKey = dir.resolve("host_ed25519");
        Path clientKey = dir.resolve("client_ed25519");
        Path clientPpk = dir.resolve("client.ppk");
        Duration timeout = Command.DEFAULT_TIMEOUT;
        Command.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e-host", "-f", hostKey.toString()),
                timeout).requireSuccess();
        Command.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e-plink",
                "-f", clientKey.toString()), timeout).requireSuccess();
        Command.run(List.of("puttygen", clientKey.toString(), "-O", "private", "-o", clientPpk.toString()), timeout)
                .requireSuccess();
        // "256 SHA256:abc... e2e-host (ED25519)": plink -hostkey takes the SHA256:... field
        String fingerprint = Command.run(List.of("ssh-keygen", "-l", "-E", "sha256", "-f", hostKey + ".pub"), timeout)
                .requireSuccess().stdout().trim().split("\\s+")[1];
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
        ManagedProcess sshd = sshdNetns.spawnListening("sshd-plink-" + sshdEndpoint.port(), sshdEndpoint,
                List.of(sshdPath, "-D", "-e", "-f", confFile.toString()));
        Endpoint socks = Endpoint.of("127.0.0.1", socksPort);
        ManagedProcess plink = null;
        boolean success = false;
        try {
            plink = clientNetns.spawnListening("plink-D-" + socksPort, socks, List.of(
                    "plink", "-ssh", "-batch", "-N", "-noagent", "-D", socks.toString(),
                    "-hostkey", fingerprint, "-i", clientPpk.toString(),
                    "-P", Integer.toString(sshdEndpoint.port()), "root@" + sshdEndpoint.host()));
            success = true;
            return new PlinkDynamicProxy(sshd, plink, socks);
        } finally {
            if (!success) {
                if (plink != null) {
                    plink.stop();
                }
                sshd.stop();
            }
        }
    }

    /** Where plink's SOCKS service listens: loopback of the client namespace. */
    public Endpoint endpoint() {
        return socks;
    }

    public ManagedProcess sshd() {
        return sshd;
    }

    public ManagedProcess plink() {
        return plink;
    }

    @Override
    public void close() {
        try {
            plink.stop();
        } finally {
            sshd.stop();
        }
    }
}
