package dev.chainsocks.server;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Socks4Admission;
import dev.chainsocks.proto.Socks4Policy;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.Cidr;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How the bundled SOCKS/HTTP proxy server runs.
 *
 * @param listen           addresses to listen on; port 0 picks a free port
 * @param users            who may use it, and how SOCKS4 clients (no password) are treated; empty means no
 *                         authentication
 * @param allowFrom        client address blocks admitted; empty admits every client
 * @param open             allow a non-loopback listener with neither users nor allowFrom
 * @param handshakeTimeout how long a client may take to send a complete request
 * @param connectTimeout   how long to wait for a destination to accept
 * @param idleTimeout      a relay with no traffic either way for this long is closed
 * @param maxConnections   concurrent client connections; more are reset
 * @param threads          event loop threads
 * @param identd           where and how long to ask a SOCKS4 client's identd, for {@link Socks4Policy#IDENTD}
 * @param gssapi           SOCKS5 GSS-API (Kerberos) authentication, offered to SOCKS5 clients when present
 */
public record SocksServerConfig(List<InetSocketAddress> listen, UserList users, List<Cidr> allowFrom, boolean open,
        Duration handshakeTimeout, Duration connectTimeout, Duration idleTimeout, int maxConnections, int threads,
        IdentdCheck identd, Optional<GssapiAcceptance> gssapi) {

    public static final int DEFAULT_PORT = 1080;

    /** Stands in for the user list when GSS-API is the only way in: no password and no SOCKS4 user id admits. */
    private static final Authenticator GSSAPI_ONLY = new Authenticator() {
        @Override
        public boolean required() {
            return true;
        }

        @Override
        public boolean verify(String user, String password) {
            return false;
        }

        @Override
        public Socks4Admission admitSocks4(String userId) {
            return Socks4Admission.REFUSED_NO_PASSWORD;
        }

        @Override
        public String toString() {
            return "GSS-API only";
        }
    };

    /** Without GSS-API. */
    public SocksServerConfig(List<InetSocketAddress> listen, UserList users, List<Cidr> allowFrom, boolean open,
            Duration handshakeTimeout, Duration connectTimeout, Duration idleTimeout, int maxConnections, int threads,
            IdentdCheck identd) {
        this(listen, users, allowFrom, open, handshakeTimeout, connectTimeout, idleTimeout, maxConnections, threads,
                identd, Optional.empty());
    }

    public SocksServerConfig {
        listen = List.copyOf(listen);
        allowFrom = List.copyOf(allowFrom);
        Objects.requireNonNull(users, "users");
        Objects.requireNonNull(identd, "identd");
        Objects.requireNonNull(gssapi, "gssapi");
        if (listen.isEmpty()) {
            throw new IllegalArgumentException("at least one listen address is needed");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("max connections must be at least 1");
        }
    }

    /** Loopback only, any free port, no users: what tests start in-process. */
    public static SocksServerConfig loopback() {
        return new SocksServerConfig(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
                UserList.empty(), List.of(), false, Duration.ofSeconds(10), Duration.ofSeconds(10),
                Duration.ofHours(1), 4096, 2, IdentdCheck.DEFAULT);
    }

    public SocksServerConfig withListen(List<InetSocketAddress> addresses) {
        return new SocksServerConfig(addresses, users, allowFrom, open, handshakeTimeout, connectTimeout,
                idleTimeout, maxConnections, threads, identd, gssapi);
    }

    public SocksServerConfig withUsers(UserList newUsers) {
        return new SocksServerConfig(listen, newUsers, allowFrom, open, handshakeTimeout, connectTimeout,
                idleTimeout, maxConnections, threads, identd, gssapi);
    }

    public SocksServerConfig withAllowFrom(List<Cidr> blocks) {
        return new SocksServerConfig(listen, users, blocks, open, handshakeTimeout, connectTimeout, idleTimeout,
                maxConnections, threads, identd, gssapi);
    }

    public SocksServerConfig withOpen(boolean isOpen) {
        return new SocksServerConfig(listen, users, allowFrom, isOpen, handshakeTimeout, connectTimeout,
                idleTimeout, maxConnections, threads, identd, gssapi);
    }

    public SocksServerConfig withTimeouts(Duration handshake, Duration connect, Duration idle) {
        return new SocksServerConfig(listen, users, allowFrom, open, handshake, connect, idle, maxConnections,
                threads, identd, gssapi);
    }

    public SocksServerConfig withMaxConnections(int max) {
        return new SocksServerConfig(listen, users, allowFrom, open, handshakeTimeout, connectTimeout, idleTimeout,
                max, threads, identd, gssapi);
    }

    public SocksServerConfig withIdentd(IdentdCheck check) {
        return new SocksServerConfig(listen, users, allowFrom, open, handshakeTimeout, connectTimeout, idleTimeout,
                maxConnections, threads, check, gssapi);
    }

    public SocksServerConfig withGssapi(GssapiAcceptance acceptance) {
        return new SocksServerConfig(listen, users, allowFrom, open, handshakeTimeout, connectTimeout, idleTimeout,
                maxConnections, threads, identd, Optional.of(acceptance));
    }

    /**
     * Who the handshakes admit by password or SOCKS4 user id: the users, or, with GSS-API and no users, nobody (so
     * SOCKS4 and HTTP clients, which cannot do GSS-API, are refused instead of admitted without authentication).
     */
    public Authenticator authenticator() {
        return gssapi.isPresent() && !users.required() ? GSSAPI_ONLY : users;
    }

    /**
     * Refuses to be an open proxy: a listener on a non-loopback address needs users, an allow-from list, or an
     * explicit {@code --open}.
     */
    public void checkSafe() {
        if (open || users.required() || gssapi.isPresent() || !allowFrom.isEmpty()) {
            return;
        }
        for (InetSocketAddress address : listen) {
            if (!address.getAddress().isLoopbackAddress()) {
                throw new IllegalArgumentException("refusing to run an open proxy on "
                        + AddressSyntax.format(address)
                        + ": anyone who can reach it could use it. Add users (--user NAME:PASSWORD or --users FILE),"
                        + " restrict clients (--allow-from CIDR), or pass --open if that is really what you want");
            }
        }
    }

    /** What the operator must be told at start about a weakened rule; each is logged as a warning. */
    public List<String> warnings() {
        if (!users.required()) {
            return List.of();
        }
        return switch (users.socks4Policy()) {
            case REFUSE -> List.of();
            case USERID_ONLY -> List.of("SOCKS4 and SOCKS4a clients are admitted by user name alone"
                    + " (--socks4-userid-only): SOCKS4 carries no password, so ANYONE WHO KNOWS A USER NAME GETS IN");
            case IDENTD -> List.of("SOCKS4 and SOCKS4a clients are admitted when their host's identd confirms the"
                    + " user name (--socks4-identd): that is the client host's word, not a password; trust it only for"
                    + " hosts whose administrators you trust" + (allowFrom.isEmpty() ? " (see --allow-from)" : ""));
        };
    }

    public boolean admits(InetAddress client) {
        if (allowFrom.isEmpty()) {
            return true;
        }
        for (Cidr block : allowFrom) {
            if (block.contains(client)) {
                return true;
            }
        }
        return false;
    }
}
