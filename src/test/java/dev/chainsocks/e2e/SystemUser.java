package dev.chainsocks.e2e;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A throwaway system account ({@code cs<n>-<jvm pid>}) with a random password, removed on {@link #close()}. Dante's
 * {@code socksmethod: username} checks passwords against the system user database, and local mode exempts the user
 * chainsocks runs as from redirection; both need a real account.
 */
public final class SystemUser implements AutoCloseable {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final String name;
    private final String password;
    private final int uid;
    private final int gid;
    private boolean closed;

    private SystemUser(String name, String password, int uid, int gid) {
        this.name = name;
        this.password = password;
        this.uid = uid;
        this.gid = gid;
    }

    public static SystemUser create() {
        String name = "cs" + COUNTER.incrementAndGet() + "-" + ProcessHandle.current().pid();
        byte[] random = new byte[9];
        new SecureRandom().nextBytes(random);
        String password = "pw" + HexFormat.of().formatHex(random);
        Duration timeout = Command.DEFAULT_TIMEOUT;
        Command.run(List.of("useradd", "--system", "--no-create-home", "--user-group",
                "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name), timeout).requireSuccess();
        boolean success = false;
        try {
            Command.run(List.of("chpasswd"), timeout, name + ":" + password + "\n").requireSuccess();
            int uid = Integer.parseInt(Command.run(List.of("id", "-u", name), timeout).requireSuccess().stdout().trim());
            int gid = Integer.parseInt(Command.run(List.of("id", "-g", name), timeout).requireSuccess().stdout().trim());
            SystemUser user = new SystemUser(name, password, uid, gid);
            ShutdownCleanup.register(user);
            success = true;
            return user;
        } finally {
            if (!success) {
                Command.run(List.of("userdel", name), timeout);
            }
        }
    }

    public String name() {
        return name;
    }

    public String password() {
        return password;
    }

    public int uid() {
        return uid;
    }

    public int gid() {
        return gid;
    }

    public Credentials credentials() {
        return new Credentials(name, password);
    }

    /**
     * Prefix for a command that should run as this user: {@code setpriv --reuid --regid --clear-groups}. It execs, so
     * the PID stays the program's own.
     */
    public List<String> runAs() {
        return List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--");
    }

    /** Deletes the account; fails (userdel exit 8) if a process still runs as it, so stop those processes first. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ShutdownCleanup.unregister(this);
        Command.run(List.of("userdel", name), Command.DEFAULT_TIMEOUT).requireSuccess();
    }

    @Override
    public String toString() {
        return "system user " + name + " (uid " + uid + ")";
    }
}
