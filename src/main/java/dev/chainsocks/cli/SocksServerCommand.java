package dev.chainsocks.cli;

import dev.chainsocks.chain.GssapiHopOptions;
import dev.chainsocks.engine.EventLoopGroup;
import dev.chainsocks.proto.Socks4Policy;
import dev.chainsocks.proto.socks5.Socks5GssapiProtection;
import dev.chainsocks.server.GssapiAcceptance;
import dev.chainsocks.server.IdentdCheck;
import dev.chainsocks.server.SocksServer;
import dev.chainsocks.server.SocksServerConfig;
import dev.chainsocks.server.UserList;
import dev.chainsocks.syntax.Cidr;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.tinylog.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code chainsocks socks-server}: the bundled SOCKS4/4a/5 and HTTP proxy, standalone. */
@Command(name = "socks-server", mixinStandardHelpOptions = true,
        description = {"Runs the bundled proxy server: SOCKS4, SOCKS4a, SOCKS5 (CONNECT, BIND, UDP ASSOCIATE) and an "
                + "HTTP proxy on the same port, until SIGTERM or SIGINT.",
                "Binds 127.0.0.1:1080 by default. It refuses a non-loopback address unless clients must "
                        + "authenticate (--user/--users), are restricted (--allow-from), or --open is given.",
                "With users, SOCKS4 and SOCKS4a requests are refused: they carry a user id but no password "
                        + "(see --socks4-identd and --socks4-userid-only).",
                "A request to connect to the server's own listening port is refused (SOCKS5 0x02, SOCKS4 0x5b, "
                        + "HTTP 403)."})
final class SocksServerCommand implements Callable<Integer> {

    @ParentCommand
    Main root;

    @Option(names = "--listen", paramLabel = "HOST:PORT", converter = HostPort.class,
            description = "Address to listen on (repeatable; IPv6 in brackets). Default: 127.0.0.1:1080.")
    List<InetSocketAddress> listen = new ArrayList<>();

    @Option(names = "--user", paramLabel = "NAME:PASSWORD",
            description = "A user who may connect (repeatable). With users, authentication is required.")
    List<String> users = new ArrayList<>();

    @Option(names = "--users", paramLabel = "FILE", description = "File of NAME:PASSWORD lines (# comments).")
    Path usersFile;

    @Option(names = "--socks4-userid-only",
            description = {"With users: admit a SOCKS4/4a request whose user id names a user, with no password.",
                    "Weak: anyone who knows a user name gets in. Without it SOCKS4/4a is refused when there are "
                            + "users."})
    boolean socks4UseridOnly;

    @Option(names = "--gssapi-keytab", paramLabel = "FILE",
            description = {"Offer SOCKS5 GSS-API authentication (RFC 1961, Kerberos V5) with the service keys in "
                    + "this keytab; the client's principal becomes its user name in the log.",
                    "Without users (--user/--users) it is then the only way in: SOCKS4/4a and HTTP clients are "
                            + "refused. The relayed stream is protected as --gssapi-protection says. The JVM "
                            + "reads the realm from -Djava.security.krb5.conf=FILE, else /etc/krb5.conf."})
    Path gssapiKeytab;

    @Option(names = "--gssapi-protection", paramLabel = "LEVEL",
            description = {"The least per-message protection (RFC 1961) agreed with a GSS-API client: none, "
                    + "integrity or confidentiality. A client asking for more gets what it asks for; one asking "
                    + "for less is answered with this level and decides whether to go on. Default: none.",
                    "With integrity or confidentiality the request, the reply and the relayed stream travel as "
                            + "wrapped messages, relayed by copying (never spliced); only CONNECT is served."})
    String gssapiProtection;

    @Option(names = "--gssapi-principal", paramLabel = "NAME",
            description = "The service principal to accept for, e.g. rcmd/proxy.example@EXAMPLE.TEST (Dante's "
                    + "default service is rcmd). Default: any principal in --gssapi-keytab.")
    String gssapiPrincipal;

    @Option(names = "--socks4-identd",
            description = {"With users: admit a SOCKS4/4a request whose user id names a user once the client host's "
                    + "identd (RFC 1413, port 113) confirms that user owns the connection.",
                    "Answers 0x5c when identd cannot be asked, 0x5d when it names someone else. identd is the client "
                            + "host's word: use it for hosts you trust (--allow-from)."})
    boolean socks4Identd;

    @Option(names = "--identd-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "5s", description = "Time the client host's identd has to connect and answer "
            + "(--socks4-identd). Default: ${DEFAULT-VALUE}.")
    Duration identdTimeout;

    @Option(names = "--allow-from", paramLabel = "CIDR", description = "Client address block admitted (repeatable).")
    List<String> allowFrom = new ArrayList<>();

    @Option(names = "--open", description = "Allow a public listener with no users and no --allow-from.")
    boolean open;

    @Option(names = "--handshake-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "10s", description = "Time a client has to send its request. Default: ${DEFAULT-VALUE}.")
    Duration handshakeTimeout;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "10s", description = "Time a destination has to accept. Default: ${DEFAULT-VALUE}.")
    Duration connectTimeout;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "1h", description = "Close relays with no traffic for this long. Default: ${DEFAULT-VALUE}.")
    Duration idleTimeout;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "4096",
            description = "Concurrent client connections; more are reset. Default: ${DEFAULT-VALUE}.")
    int maxConnections;

    @Option(names = "--threads", paramLabel = "N", description = "Event loop threads. Default: one per core.")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        root.configureLogging("info");
        SocksServerConfig config = config();
        ServiceSignals signals = new ServiceSignals();
        try (SocksServer server = SocksServer.start(config)) {
            String signal = signals.awaitStop();
            Logger.info("socks-server stopping on {} after {} connection(s)", signal, server.acceptedConnections());
        }
        return Main.EXIT_OK;
    }

    SocksServerConfig config() throws IOException {
        List<InetSocketAddress> addresses = listen.isEmpty()
                ? List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), SocksServerConfig.DEFAULT_PORT))
                : listen;
        UserList userList;
        try {
            userList = UserList.of(users);
            if (usersFile != null) {
                userList = userList.plus(UserList.load(usersFile));
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Main.UsageException("users file not found: " + e.getFile());
        }
        if (socks4UseridOnly && socks4Identd) {
            throw new Main.UsageException("--socks4-userid-only and --socks4-identd exclude each other: choose"
                    + " whether a SOCKS4 user id is taken on its word or confirmed by the client host's identd");
        }
        if (socks4Identd) {
            if (!userList.required()) {
                throw new Main.UsageException("--socks4-identd needs users (--user or --users): it confirms that a"
                        + " SOCKS4 user id names one of them; without users every SOCKS4 client is admitted anyway");
            }
            userList = userList.withSocks4Policy(Socks4Policy.IDENTD);
        }
        if (socks4UseridOnly) {
            if (!userList.required()) {
                throw new Main.UsageException("--socks4-userid-only needs users (--user or --users): without users"
                        + " every SOCKS4 client is admitted anyway");
            }
            userList = userList.withSocks4Policy(Socks4Policy.USERID_ONLY);
        }
        List<Cidr> blocks = allowFrom.stream().map(Cidr::parse).toList();
        SocksServerConfig config = new SocksServerConfig(addresses, userList, blocks, open, handshakeTimeout,
                connectTimeout, idleTimeout, maxConnections,
                threads == null ? EventLoopGroup.defaultThreads() : threads,
                new IdentdCheck(IdentdCheck.IDENT_PORT, identdTimeout));
        if (gssapiProtection != null && gssapiKeytab == null) {
            throw new Main.UsageException("--gssapi-protection needs --gssapi-keytab: it applies to GSS-API clients");
        }
        Socks5GssapiProtection minimumProtection = gssapiProtection == null ? Socks5GssapiProtection.NONE
                : GssapiHopOptions.protectionNamed(gssapiProtection).orElseThrow(() -> new Main.UsageException(
                        "--gssapi-protection " + gssapiProtection + ": write none, integrity or confidentiality"));
        if (gssapiPrincipal != null && gssapiKeytab == null) {
            throw new Main.UsageException("--gssapi-principal needs --gssapi-keytab: the keytab holds that"
                    + " principal's keys");
        }
        if (gssapiKeytab != null) {
            if (!Files.isReadable(gssapiKeytab)) {
                throw new Main.UsageException("--gssapi-keytab " + gssapiKeytab + ": not a readable file");
            }
            config = config.withGssapi(new GssapiAcceptance(gssapiKeytab.toAbsolutePath(),
                    Optional.ofNullable(gssapiPrincipal), minimumProtection));
        }
        return config;
    }
}
