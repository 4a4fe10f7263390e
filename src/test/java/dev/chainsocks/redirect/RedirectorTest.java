package dev.chainsocks.redirect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.chain.ChainHealth;
import dev.chainsocks.chain.ChainState;
import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ConfigLoader;
import dev.chainsocks.server.SocksServer;
import dev.chainsocks.server.SocksServerConfig;
import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The redirector end to end on loopback, without netfilter: the lookup is fixed to the echo server (what
 * SO_ORIGINAL_DST would have said), the chains are bundled servers and counting fakes, and clients are plain
 * blocking sockets connecting to the listener.
 */
@Timeout(60)
class RedirectorTest {

    private EchoServer echo;
    private Redirector redirector;
    private final List<SocksServer> servers = new ArrayList<>();
    private final List<FakeProxy> fakes = new ArrayList<>();
    private final List<Socket> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        echo = EchoServer.start(InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void tearDown() throws IOException {
        for (Socket client : clients) {
            client.close();
        }
        if (redirector != null) {
            redirector.close();
        }
        for (FakeProxy fake : fakes) {
            fake.close();
        }
        for (SocksServer server : servers) {
            server.close();
        }
        echo.close();
        for (FakeProxy fake : fakes) {
            fake.checkExceptions();
        }
    }

    @Test
    void clientReachesTheDestinationThroughAChainWithBytesIntactAndHalfCloseRespected() throws Exception {
        SocksServer first = server();
        SocksServer second = server();
        start(listen -> listener(listen, "strict", "main")
                + chain("main", "socks5://127.0.0.1:" + first.port(), "http://127.0.0.1:" + second.port()));

        Socket client = connect();
        byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
        client.getOutputStream().write(hello);
        assertThat(client.getInputStream().readNBytes(hello.length)).isEqualTo(hello);

        // The relay counts a chunk once its write returns, which can be just after the client has read it.
        Eventually.until("the echo counted down", () -> redirector.sessions().size() != 1
                || redirector.sessions().get(0).bytesDown() >= hello.length);
        List<SessionInfo> live = redirector.sessions();
        assertThat(live).hasSize(1);
        SessionInfo session = live.get(0);
        assertThat(session.client()).isEqualTo(client.getLocalSocketAddress());
        assertThat(session.destination()).isEqualTo(echo.address());
        assertThat(session.chain()).startsWith("main[");
        assertThat(session.state()).isEqualTo(SessionState.RELAY);
        assertThat(session.bytesUp()).isEqualTo(hello.length);
        assertThat(session.bytesDown()).isEqualTo(hello.length);

        // half-close: the client stops sending, and still receives everything the destination sends afterwards
        byte[] body = new byte[512 * 1024];
        new Random(11).nextBytes(body);
        CompletableFuture<byte[]> reply = CompletableFuture.supplyAsync(() -> readAll(client));
        client.getOutputStream().write(body);
        client.shutdownOutput();
        assertThat(reply.get(20, TimeUnit.SECONDS)).isEqualTo(body);

        Eventually.until("session ended", () -> redirector.sessions().isEmpty());
        long total = hello.length + body.length;
        Eventually.until("bytes counted", () -> redirector.counters().bytesUp() == total);
        assertThat(redirector.counters().accepted()).isEqualTo(1);
        assertThat(redirector.counters().dialedCount()).isEqualTo(1);
        assertThat(redirector.counters().bytesDown()).isEqualTo(total);
        assertThat(redirector.counters().failuresByReason()).isEmpty();
        assertThat(first.acceptedConnections()).isEqualTo(1);
        assertThat(second.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void failoverUsesTheSecondChainAndSkipsTheDeadOneDuringItsBackoff() throws Exception {
        // A proxy that answers garbage is a broken chain (a well-formed "connection refused" would blame the
        // destination instead, and would not mark the chain down: see the test after this one).
        FakeProxy dead = fake(FakeProxy.rogue(FakeProxy.Protocol.SOCKS5, true, "05 00", "07 00"));
        SocksServer live = server();
        start(listen -> listener(listen, "failover", "dead", "live") + "failover-backoff = \"30s\"\n"
                + chain("dead", dead.uri(FakeProxy.Protocol.SOCKS5))
                + chain("live", "socks5://127.0.0.1:" + live.port()));

        assertEchoes(connect(), "first");
        assertThat(dead.accepted()).isEqualTo(1);
        assertThat(live.acceptedConnections()).isEqualTo(1);

        List<ChainHealth> health = redirector.listeners().get(0).chains();
        assertThat(health).hasSize(2);
        ChainHealth deadHealth = health.get(0);
        assertThat(deadHealth.chain().name()).isEqualTo("dead");
        assertThat(deadHealth.state()).isEqualTo(ChainState.DOWN);
        assertThat(deadHealth.failures()).isEqualTo(1);
        assertThat(deadHealth.backoffUntil()).isPresent();
        assertThat(deadHealth.lastError()).hasValueSatisfying(error -> assertThat(error)
                .contains("hop 1/1 " + dead.uri(FakeProxy.Protocol.SOCKS5))
                .contains("0x07"));
        assertThat(health.get(1).up()).isTrue();
        assertThat(health.get(1).successes()).isEqualTo(1);

        assertEchoes(connect(), "second");
        assertThat(dead.accepted()).as("connections to the chain in backoff").isEqualTo(1);
        assertThat(live.acceptedConnections()).isEqualTo(2);
        assertThat(redirector.counters().dialedCount()).isEqualTo(2);
        assertThat(redirector.counters().failuresByReason()).isEmpty();
    }

    @Test
    void aDownChainIsBroughtBackByAProbeOfOurOwnNotByAUsersConnection() throws Exception {
        int primaryPort = closedPort();
        SocksServer backup = server();
        start(listen -> listener(listen, "failover", "primary", "backup") + "failover-backoff = \"1s\"\n"
                + chain("primary", "socks5://127.0.0.1:" + primaryPort)
                + chain("backup", "socks5://127.0.0.1:" + backup.port()));

        assertEchoes(connect(), "first");
        Eventually.until("a probe of the down primary has failed", () -> primary().lastError()
                .filter(error -> error.startsWith("probe of hop 1 socks5://127.0.0.1:" + primaryPort)).isPresent());
        assertThat(primary().state()).isEqualTo(ChainState.DOWN);

        assertEchoes(connect(), "second");
        assertThat(primary().failures()).as("only the first user's dial tried the primary").isEqualTo(1);
        assertThat(backup.acceptedConnections()).isEqualTo(2);

        SocksServer revived = server(SocksServerConfig.loopback().withListen(
                List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), primaryPort))));
        Eventually.until("a probe brought the primary back", () -> primary().state() == ChainState.UP);
        assertThat(primary().successes()).as("no user's dial was needed").isZero();
        assertThat(revived.acceptedConnections()).as("the probe connected").isPositive();

        long before = revived.acceptedConnections();
        assertEchoes(connect(), "third");
        assertThat(revived.acceptedConnections()).isEqualTo(before + 1);
        assertThat(backup.acceptedConnections()).isEqualTo(2);
    }

    private ChainHealth primary() {
        return redirector.listeners().get(0).chains().get(0);
    }

    @Test
    void aDestinationRefusedByTheLastHopDoesNotMarkTheChainDown() throws Exception {
        FakeProxy refusing = fake(FakeProxy.refusing());
        SocksServer live = server();
        start(listen -> listener(listen, "failover", "first", "second") + "failover-backoff = \"30s\"\n"
                + chain("first", refusing.uri(FakeProxy.Protocol.SOCKS5))
                + chain("second", "socks5://127.0.0.1:" + live.port()));

        // The first chain's proxy says "connection refused" for the destination: the next chain is still tried
        // (a proxy without uplink answers like that too) and carries the connection...
        assertEchoes(connect(), "first");
        // ...but the first chain is not marked down, so the next connection asks it first again.
        assertThat(redirector.listeners().get(0).chains().get(0).state()).as("it answered: it works")
                .isEqualTo(ChainState.UP);
        assertEchoes(connect(), "second");
        assertThat(refusing.accepted()).isEqualTo(2);
        assertThat(live.acceptedConnections()).isEqualTo(2);
    }

    @Test
    void roundRobinAlternatesBetweenChains() throws Exception {
        SocksServer a = server();
        SocksServer b = server();
        start(listen -> listener(listen, "round-robin", "a", "b")
                + chain("a", "socks5://127.0.0.1:" + a.port())
                + chain("b", "socks4://127.0.0.1:" + b.port()));

        List<String> used = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            long beforeA = a.acceptedConnections();
            long beforeB = b.acceptedConnections();
            try (Socket client = connect()) {
                assertEchoes(client, "turn " + i);
            }
            used.add((a.acceptedConnections() - beforeA) + "a+" + (b.acceptedConnections() - beforeB) + "b");
        }

        assertThat(used).containsExactly("1a+0b", "0a+1b", "1a+0b", "0a+1b");
    }

    @Test
    void whenEveryChainFailsTheClientIsResetPromptly() throws Exception {
        int closedX = closedPort();
        int closedY = closedPort();
        start(listen -> listener(listen, "failover", "x", "y")
                + chain("x", "socks5://127.0.0.1:" + closedX)
                + chain("y", "http://127.0.0.1:" + closedY));

        long start = System.nanoTime();
        assertConnectionIsReset();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));

        Eventually.until("failure counted", () -> redirector.counters().failuresByReason().getOrDefault(FailureReason.DIAL, 0L) == 1);
        assertThat(redirector.counters().dialedCount()).isZero();
        assertThat(redirector.listeners().get(0).chains()).allSatisfy(h -> assertThat(h.state())
                .isEqualTo(ChainState.DOWN));
        Eventually.until("session ended", () -> redirector.sessions().isEmpty());
    }

    @Test
    void aFakeAddressIsDialedByItsNameAndOneWithoutANameIsRefused() throws Exception {
        FakeProxy socks5 = fake(FakeProxy.terminal(FakeProxy.Protocol.SOCKS5, FakeProxy.Then.ECHO));
        FakeProxy http = fake(FakeProxy.terminal(FakeProxy.Protocol.HTTP, FakeProxy.Then.ECHO));
        InetSocketAddress[] destination = new InetSocketAddress[1];
        String dns = "\n[dns]\nlisten = [\"127.0.0.1:5353\"]\nfake-ipv4 = \"100.64.0.0/10\"\n";
        start(listen -> listener(listen, "failover", "socks5", "http") + chain("socks5", socks5.uri(FakeProxy.Protocol.SOCKS5))
                + chain("http", http.uri(FakeProxy.Protocol.HTTP)) + dns, accepted -> destination[0]);
        InetAddress fakeAddress = redirector.fakeIps().assign("echo.example", false).orElseThrow();
        assertThat(fakeAddress).isEqualTo(InetAddress.getByName("100.64.0.1"));

        destination[0] = new InetSocketAddress(fakeAddress, 443);
        assertEchoes(connect(), "by name");
        assertThat(socks5.requests()).containsExactly(
                new FakeProxy.Request(FakeProxy.Protocol.SOCKS5, 0x03, "echo.example", 443));

        destination[0] = new InetSocketAddress(InetAddress.getByName("100.64.0.9"), 443);
        assertThat(connect().getInputStream().read()).as("the redirector closes the connection").isEqualTo(-1);
        Eventually.until("failure counted",
                () -> redirector.counters().failuresByReason().getOrDefault(FailureReason.UNMAPPED, 0L) == 1);
        assertThat(socks5.accepted()).as("no dial for a fake address without a name").isEqualTo(1);
        assertThat(redirector.fakeIps().stats().hits()).isEqualTo(1);
        assertThat(redirector.fakeIps().stats().misses()).isEqualTo(1);

        // a reload keeps the mapping: the same address still reaches the name, now through the HTTP hop
        redirector.reload(config(listener(format(redirector.boundAddresses().get(0)), "strict", "http")
                + chain("http", http.uri(FakeProxy.Protocol.HTTP)) + dns));
        destination[0] = new InetSocketAddress(fakeAddress, 8443);
        assertEchoes(connect(), "after reload");
        assertThat(http.requests()).containsExactly(
                new FakeProxy.Request(FakeProxy.Protocol.HTTP, 0x03, "echo.example", 8443));
    }

    @Test
    void recoverNameDialsTheSniOrHostNameAndRelaysTheFirstBytesUnaltered() throws Exception {
        FakeProxy socks5 = fake(FakeProxy.terminal(FakeProxy.Protocol.SOCKS5, FakeProxy.Then.ECHO));
        start(listen -> listener(listen, "strict", "main") + "recover-name = \"sni-host\"\n"
                + chain("main", socks5.uri(FakeProxy.Protocol.SOCKS5)));
        int port = echo.address().getPort();

        String get = "GET / HTTP/1.1\r\nHost: Named.Example:8080\r\nAccept: */*\r\n\r\n";
        assertEchoes(connect(), get);
        byte[] hello = dev.chainsocks.proto.sniff.ServerNameSnifferTest.clientHello("tls.example");
        Socket tls = connect();
        tls.getOutputStream().write(hello);
        assertThat(tls.getInputStream().readNBytes(hello.length)).as("the ClientHello relayed unaltered")
                .isEqualTo(hello);
        assertThat(socks5.requests()).containsExactly(
                new FakeProxy.Request(FakeProxy.Protocol.SOCKS5, 0x03, "named.example", port),
                new FakeProxy.Request(FakeProxy.Protocol.SOCKS5, 0x03, "tls.example", port));

        // a client that waits for the server to speak first is dialed by address once the wait is over
        Socket silent = connect();
        Eventually.until("dialed by address", () -> socks5.requests().size() == 3);
        assertThat(socks5.requests().get(2)).isEqualTo(
                new FakeProxy.Request(FakeProxy.Protocol.SOCKS5, 0x01, "127.0.0.1", port));
        assertEchoes(silent, "SSH-2.0-late\r\n");
    }

    @Test
    void loopGuardRefusesAConnectionWhoseDestinationIsTheListenerItself() throws Exception {
        SocksServer hop = server();
        start(listen -> listener(listen, "strict", "main") + chain("main", "socks5://127.0.0.1:" + hop.port()),
                accepted -> (InetSocketAddress) accepted.getLocalAddress());

        Socket client = connect();
        assertThat(client.getInputStream().read()).as("the redirector closes the connection").isEqualTo(-1);

        Eventually.until("failure counted", () -> redirector.counters().failuresByReason().getOrDefault(FailureReason.LOOP, 0L) == 1);
        assertThat(redirector.counters().accepted()).isEqualTo(1);
        assertThat(redirector.counters().dialedCount()).isZero();
        assertThat(hop.acceptedConnections()).as("connections to the chain's hop").isZero();
        assertThat(echo.connections()).isZero();
        Eventually.until("session ended", () -> redirector.sessions().isEmpty());
    }

    @Test
    void reloadKeepsTheSocketServesNewConnectionsWithTheNewChainAndLeavesRelaysAlone() throws Exception {
        SocksServer before = server();
        SocksServer after = server();
        start(listen -> listener(listen, "strict", "main") + chain("main", "socks5://127.0.0.1:" + before.port()));
        InetSocketAddress bound = redirector.boundAddresses().get(0);

        Socket established = connect();
        assertEchoes(established, "before the reload");

        redirector.reload(config(listener(format(bound), "strict", "main")
                + chain("main", "http://127.0.0.1:" + after.port())));

        assertThat(redirector.boundAddresses()).containsExactly(bound);
        assertThat(redirector.listeners().get(0).chains().get(0).chain().hops().get(0).toString())
                .isEqualTo("http://127.0.0.1:" + after.port());
        try (Socket fresh = connect()) {
            assertEchoes(fresh, "after the reload");
        }
        assertThat(after.acceptedConnections()).isEqualTo(1);
        assertThat(before.acceptedConnections()).isEqualTo(1);

        // the relay started before the reload carries on and finishes intact, still through the old chain
        byte[] rest = new byte[200 * 1024];
        new Random(5).nextBytes(rest);
        CompletableFuture<byte[]> reply = CompletableFuture.supplyAsync(() -> readAll(established));
        established.getOutputStream().write(rest);
        established.shutdownOutput();
        assertThat(reply.get(20, TimeUnit.SECONDS)).isEqualTo(rest);
        assertThat(before.acceptedConnections()).isEqualTo(1);
        Eventually.until("sessions ended", () -> redirector.sessions().isEmpty());
        assertThat(redirector.counters().failuresByReason()).isEmpty();
    }

    @Test
    void reloadThatCannotBindFailsAndTheOldConfigurationKeepsWorking() throws Exception {
        SocksServer old = server();
        SocksServer unused = server();
        start(listen -> listener(listen, "strict", "main") + chain("main", "socks5://127.0.0.1:" + old.port()));
        InetSocketAddress bound = redirector.boundAddresses().get(0);
        ChainsocksConfig oldConfig = redirector.config();

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String takenAddress = "127.0.0.1:" + taken.getLocalPort();
            ChainsocksConfig next = config(listener(format(bound), "strict", "main")
                    + listener(takenAddress, "strict", "main")
                    + chain("main", "socks5://127.0.0.1:" + unused.port()));

            assertThatThrownBy(() -> redirector.reload(next)).isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot listen on " + takenAddress);
        }

        assertThat(redirector.config()).isSameAs(oldConfig);
        assertThat(redirector.boundAddresses()).containsExactly(bound);
        try (Socket client = connect()) {
            assertEchoes(client, "still the old chain");
        }
        assertThat(old.acceptedConnections()).isEqualTo(1);
        assertThat(unused.acceptedConnections()).isZero();
    }

    @Test
    void connectionsAboveTheLimitAreResetUntilOneEnds() throws Exception {
        SocksServer hop = server();
        start(listen -> "[service]\nmax-connections = 2\n\n" + listener(listen, "strict", "main")
                + chain("main", "socks5://127.0.0.1:" + hop.port()));

        Socket one = connect();
        assertEchoes(one, "one");
        Socket two = connect();
        assertEchoes(two, "two");

        assertConnectionIsReset();
        assertThat(redirector.counters().accepted()).as("the reset connection never became a session")
                .isEqualTo(2);

        one.close();
        Eventually.until("first session ended", () -> redirector.activeSessions() == 1);
        Socket four = connect();
        assertEchoes(four, "four");
        assertEchoes(two, "two still works");
        assertThat(redirector.counters().accepted()).isEqualTo(3);
    }

    // ---- helpers ----

    @Test
    void theConnectionLimitFollowsTheOpenFilesLimit() throws Exception {
        // 300 descriptors: 100 + 6 for the process, 2 per relayed connection -> 97 connections.
        String toml = listener("127.0.0.1:" + closedPort(), "strict", "direct") + "[chain.direct]\nhops = []\n";
        InetSocketAddress target = echo.address();
        redirector = Redirector.start(config(toml), kind -> accepted -> target, () -> 300);
        assertThat(redirector.maxConnections()).isEqualTo(97);
        redirector.close();

        redirector = Redirector.start(config("[service]\nmax-connections = 2\n" + toml), kind -> accepted -> target,
                () -> 300);
        assertThat(redirector.maxConnections()).as("a configured limit below the ceiling stays").isEqualTo(2);
        redirector.close();

        redirector = Redirector.start(config(toml), kind -> accepted -> target, () -> -1);
        assertThat(redirector.maxConnections()).as("unlimited open files").isEqualTo(10_000);
    }

    /**
     * A connection that is already waiting in the backlog when the listener starts accepting is served like any
     * other: the listener is complete before its first accept. (The listener was once assigned only after accepting
     * had started, and such a connection met a null listener.)
     */
    @Test
    void aConnectionWaitingInTheBacklogAtStartIsServed() throws Exception {
        InetSocketAddress target = echo.address();
        for (int round = 0; round < 40; round++) {
            int port = closedPort();
            List<Socket> early = new ArrayList<>();
            String toml = listener("127.0.0.1:" + port, "strict", "direct") + "[chain.direct]\nhops = []\n";
            Redirector started = Redirector.start(config(toml), kind -> {
                // Called while the listener is being set up: its socket is bound and listening, not yet accepting.
                try {
                    Socket socket = new Socket();
                    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
                    socket.setSoTimeout(10_000);
                    early.add(socket);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return accepted -> target;
            });
            try {
                assertThat(early).hasSize(1);
                Socket client = early.get(0);
                clients.add(client);
                assertEchoes(client, "round " + round);
            } finally {
                started.close();
            }
        }
    }

    private void start(Function<String, String> tomlForListen) throws Exception {
        InetSocketAddress target = echo.address();
        start(tomlForListen, accepted -> target);
    }

    /**
     * Starts the redirector on a free loopback port. The port is found by binding and releasing it, so another
     * process may take it in between; then the start is retried on a new port.
     */
    private void start(Function<String, String> tomlForListen, OriginalDestinationLookup lookup) throws Exception {
        IOException lastFailure = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            String listen = "127.0.0.1:" + closedPort();
            try {
                redirector = Redirector.start(config(tomlForListen.apply(listen)), kind -> lookup);
                return;
            } catch (IOException e) {
                lastFailure = e;
            }
        }
        throw lastFailure;
    }

    private static ChainsocksConfig config(String toml) throws Exception {
        String timeouts = "\n[timeouts]\nconnect = \"2s\"\nhandshake = \"2s\"\ndial = \"5s\"\nidle = \"1m\"\n";
        return ConfigLoader.parse(toml + timeouts, Path.of("redirector-test.toml"));
    }

    private static String listener(String listen, String policy, String... chains) {
        return "[[listener]]\nlisten = \"" + listen + "\"\npolicy = \"" + policy + "\"\nchains = ["
                + String.join(", ", java.util.Arrays.stream(chains).map(c -> "\"" + c + "\"").toList()) + "]\n";
    }

    private static String chain(String name, String... hops) {
        return "\n[chain." + name + "]\nhops = ["
                + String.join(", ", java.util.Arrays.stream(hops).map(h -> "\"" + h + "\"").toList()) + "]\n";
    }

    private static String format(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    private SocksServer server() throws IOException {
        return server(SocksServerConfig.loopback());
    }

    private SocksServer server(SocksServerConfig config) throws IOException {
        SocksServer server = SocksServer.start(config);
        servers.add(server);
        return server;
    }

    private FakeProxy fake(FakeProxy fake) {
        fakes.add(fake);
        return fake;
    }

    private Socket connect() throws IOException {
        Socket client = new Socket();
        clients.add(client);
        client.connect(redirector.boundAddresses().get(0), 5000);
        client.setSoTimeout(10_000);
        return client;
    }

    /**
     * Connects and reads: the redirector resets the connection. The reset may arrive while the client is still
     * finishing its connect (the accept and the reset can both happen before connect() returns) or on the read.
     */
    private void assertConnectionIsReset() {
        assertThatThrownBy(() -> connect().getInputStream().read())
                .isInstanceOf(SocketException.class).hasMessageContaining("Connection reset");
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void assertEchoes(Socket client, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        client.getOutputStream().write(bytes);
        assertThat(client.getInputStream().readNBytes(bytes.length)).asString(StandardCharsets.US_ASCII)
                .isEqualTo(text);
    }

    private static byte[] readAll(Socket socket) {
        try {
            InputStream in = socket.getInputStream();
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
