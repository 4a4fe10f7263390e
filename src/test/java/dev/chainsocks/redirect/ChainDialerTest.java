package dev.chainsocks.redirect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.engine.BufferPool;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.redirect.FakeProxy.Protocol;
import dev.chainsocks.redirect.FakeProxy.Request;
import dev.chainsocks.redirect.FakeProxy.Then;
import dev.chainsocks.server.SocksServer;
import dev.chainsocks.server.SocksServerConfig;
import dev.chainsocks.server.UserList;
import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ChainDialer} on one real event loop against loopback proxies: scripted fakes (terminal, unresponsive,
 * rogue, refusing) and the bundled server as a real intermediary. Every fake counts its connections and records
 * what it was asked for, so a test can see that each hop was used and asked for the right thing.
 */
@Timeout(60)
class ChainDialerTest {

    private static final ChainDialer.Timeouts TIMEOUTS =
            new ChainDialer.Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(20));

    private EventLoop loop;
    private ExecutorService blocking;
    private EchoServer echo;
    private final List<FakeProxy> fakes = new ArrayList<>();
    private final List<SocksServer> servers = new ArrayList<>();
    private final List<SocketChannel> dialed = new CopyOnWriteArrayList<>();
    private final List<Throwable> problems = new CopyOnWriteArrayList<>();

    /** A successful dial: the tunnel, the early data copied out of the pooled buffer, and the reported latency. */
    record Dialed(SocketChannel channel, byte[] earlyData, Duration latency) {
    }

    @BeforeEach
    void setUp() throws IOException {
        loop = new EventLoop("dial-test", new BufferPool(16 * 1024, 8));
        blocking = Executors.newFixedThreadPool(2);
        echo = EchoServer.start(InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void tearDown() throws Exception {
        onLoop(() -> {
            dialed.forEach(ChannelClose::quietly);
            return null;
        });
        for (FakeProxy fake : fakes) {
            fake.close();
        }
        for (SocksServer server : servers) {
            server.close();
        }
        echo.close();
        loop.close();
        blocking.shutdownNow();
        for (FakeProxy fake : fakes) {
            fake.checkExceptions();
        }
        if (!problems.isEmpty()) {
            AssertionError error = new AssertionError("dial callback misbehaved: " + problems.get(0));
            problems.forEach(error::addSuppressed);
            throw error;
        }
    }

    // ---- direct and single-hop chains ----

    @Test
    void directChainConnectsStraightToTheDestination() throws Exception {
        Dialed tunnel = dialOk(new ProxyChain("lan", List.of()), echoTarget());

        assertEchoes(tunnel.channel(), "direct".getBytes(StandardCharsets.US_ASCII));
        assertThat(tunnel.earlyData()).isEmpty();
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void directChainToAClosedPortFailsAsHopZero() throws Exception {
        int closed = closedPort();
        DialException failure = dialFails(new ProxyChain("lan", List.of()),
                Destination.ip(InetAddress.getLoopbackAddress(), closed), TIMEOUTS);

        assertThat(failure.hopNumber()).isZero();
        assertThat(failure.getMessage())
                .startsWith("chain lan: direct connection to 127.0.0.1:" + closed + " connect failed: ");
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void oneTerminalHopOfEachProtocolReachesTheDestination(Protocol protocol) throws Exception {
        FakeProxy hop = fake(FakeProxy.terminal(protocol, Then.CONNECT));

        Dialed tunnel = dialOk(chain(hop.uri(protocol)), echoTarget());

        assertEchoes(tunnel.channel(), ("through " + protocol).getBytes(StandardCharsets.US_ASCII));
        assertThat(hop.accepted()).isEqualTo(1);
        assertThat(hop.requests()).containsExactly(new Request(protocol, 1, "127.0.0.1", echo.port()));
        assertThat(echo.connections()).isEqualTo(1);
        assertThat(outstandingBuffers()).isZero();
    }

    // ---- double chains: each hop is asked for the next ----

    @Test
    void doubleChainAsksTheFirstHopForTheSecondHopAndTheSecondForTheDestination() throws Exception {
        FakeProxy first = fake(FakeProxy.terminal(Protocol.SOCKS5, Then.CONNECT));
        FakeProxy second = fake(FakeProxy.terminal(Protocol.SOCKS5, Then.ECHO));

        Dialed tunnel = dialOk(chain(first.uri(Protocol.SOCKS5), second.uri(Protocol.SOCKS5)),
                Destination.name("only-the-last-hop-knows.invalid", 443));

        assertEchoes(tunnel.channel(), "inner".getBytes(StandardCharsets.US_ASCII));
        assertThat(first.accepted()).isEqualTo(1);
        assertThat(second.accepted()).isEqualTo(1);
        assertThat(first.requests()).containsExactly(new Request(Protocol.SOCKS5, 1, "127.0.0.1", second.port()));
        // the destination's name travels to the last hop unresolved (ATYP DOMAIN)
        assertThat(second.requests())
                .containsExactly(new Request(Protocol.SOCKS5, 3, "only-the-last-hop-knows.invalid", 443));
    }

    @Test
    void bundledServerAsIntermediaryInFrontOfAnHttpTerminal() throws Exception {
        SocksServer intermediary = server(SocksServerConfig.loopback());
        FakeProxy terminal = fake(FakeProxy.terminal(Protocol.HTTP, Then.CONNECT));

        Dialed tunnel = dialOk(chain("socks5://127.0.0.1:" + intermediary.port(), terminal.uri(Protocol.HTTP)),
                echoTarget());

        assertEchoes(tunnel.channel(), "two hops".getBytes(StandardCharsets.US_ASCII));
        assertThat(intermediary.acceptedConnections()).isEqualTo(1);
        assertThat(terminal.requests()).containsExactly(new Request(Protocol.HTTP, 1, "127.0.0.1", echo.port()));
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void threeHopMixedChainOfBundledServersCarriesBytesIntact() throws Exception {
        SocksServer socks5 = server(SocksServerConfig.loopback());
        SocksServer http = server(SocksServerConfig.loopback());
        SocksServer socks4a = server(SocksServerConfig.loopback());

        Dialed tunnel = dialOk(chain("socks5://127.0.0.1:" + socks5.port(), "http://127.0.0.1:" + http.port(),
                "socks4a://127.0.0.1:" + socks4a.port()), echoTarget());

        byte[] payload = new byte[256 * 1024];
        new Random(3).nextBytes(payload);
        assertEchoes(tunnel.channel(), payload);
        assertThat(socks5.acceptedConnections()).isEqualTo(1);
        assertThat(http.acceptedConnections()).isEqualTo(1);
        assertThat(socks4a.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void credentialsAreSentAndARejectedPasswordIsNamedWithoutRevealingIt() throws Exception {
        SocksServer guarded = server(SocksServerConfig.loopback().withUsers(UserList.of(List.of("u:p"))));

        Dialed socks5 = dialOk(chain("socks5://u:p@127.0.0.1:" + guarded.port()), echoTarget());
        assertEchoes(socks5.channel(), "authenticated".getBytes(StandardCharsets.US_ASCII));
        Dialed http = dialOk(chain("http://u:p@127.0.0.1:" + guarded.port()), echoTarget());
        assertEchoes(http.channel(), "authenticated".getBytes(StandardCharsets.US_ASCII));

        DialException failure = dialFails(chain("socks5://u:wrong-secret@127.0.0.1:" + guarded.port()),
                echoTarget(), TIMEOUTS);
        assertThat(failure.hopNumber()).isEqualTo(1);
        assertThat(failure.getMessage())
                .contains("hop 1/1 socks5://u:***@127.0.0.1:" + guarded.port())
                .contains("authentication failed")
                .doesNotContain("wrong-secret");
        assertThat(guarded.acceptedConnections()).isEqualTo(3);
    }

    // ---- early data ----

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void earlyDataSentWithTheFinalReplyIsDeliveredNotLost(Protocol protocol) throws Exception {
        byte[] banner = "220 destination speaks first\r\n".getBytes(StandardCharsets.US_ASCII);
        FakeProxy hop = fake(FakeProxy.terminal(protocol, Then.ECHO, banner));

        Dialed tunnel = dialOk(chain(hop.uri(protocol)), echoTarget());

        assertThat(tunnel.earlyData()).isEqualTo(banner);
        assertEchoes(tunnel.channel(), "after the banner".getBytes(StandardCharsets.US_ASCII));
        assertThat(outstandingBuffers()).isZero();
    }

    // ---- how the next hop's name is carried ----

    static Stream<Arguments> nextHopByName() {
        return Stream.of(
                // plain SOCKS4 cannot carry a name: it is resolved here and sent as an IPv4 address
                Arguments.of("socks4", new Request(Protocol.SOCKS4, 1, "127.0.0.1", -1)),
                Arguments.of("socks4a", new Request(Protocol.SOCKS4, 3, "localhost", -1)),
                Arguments.of("socks5", new Request(Protocol.SOCKS5, 3, "localhost", -1)),
                Arguments.of("http", new Request(Protocol.HTTP, 3, "localhost", -1)));
    }

    @ParameterizedTest
    @MethodSource("nextHopByName")
    void nextHopGivenByNameIsSentAsANameUnlessTheHopIsPlainSocks4(String scheme, Request expected)
            throws Exception {
        Protocol protocol = expected.protocol();
        FakeProxy first = fake(FakeProxy.terminal(protocol, Then.CONNECT));
        FakeProxy second = fake(FakeProxy.terminal(Protocol.SOCKS5, Then.ECHO));

        Dialed tunnel = dialOk(chain(scheme + "://127.0.0.1:" + first.port(), "socks5://localhost:" + second.port()),
                echoTarget());

        assertEchoes(tunnel.channel(), "by name".getBytes(StandardCharsets.US_ASCII));
        assertThat(first.requests()).containsExactly(
                new Request(protocol, expected.addressType(), expected.host(), second.port()));
        assertThat(second.accepted()).isEqualTo(1);
    }

    // ---- failures name the hop ----

    @Test
    void unresponsiveHopTimesOutAndIsNamed() throws Exception {
        FakeProxy silent = fake(FakeProxy.unresponsive());
        ChainDialer.Timeouts timeouts =
                new ChainDialer.Timeouts(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(20));

        DialException failure = dialFails(chain(silent.uri(Protocol.SOCKS5)), echoTarget(), timeouts);

        assertThat(failure.hopNumber()).isEqualTo(1);
        assertThat(failure.getMessage()).startsWith("chain test: hop 1/1 socks5://127.0.0.1:" + silent.port()
                + " timed out asking for 127.0.0.1:" + echo.port());
        assertThat(silent.accepted()).isEqualTo(1);
    }

    @Test
    void totalDialDeadlineCutsAnUnresponsiveSecondHopShort() throws Exception {
        SocksServer fast = server(SocksServerConfig.loopback());
        FakeProxy silent = fake(FakeProxy.unresponsive());
        ChainDialer.Timeouts timeouts =
                new ChainDialer.Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofMillis(500));

        long start = System.nanoTime();
        DialException failure = dialFails(chain("socks5://127.0.0.1:" + fast.port(), silent.uri(Protocol.SOCKS5)),
                echoTarget(), timeouts);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(failure.hopNumber()).isEqualTo(2);
        // The hop's handshake deadline is cut to what is left of the total, and the total has its own timer:
        // whichever fires first names the hop.
        assertThat(failure.getMessage()).contains("hop 2/2 socks5://127.0.0.1:" + silent.port() + " ")
                .containsAnyOf(" timed out", " dial deadline 500ms passed");
        assertThat(took).isBetween(Duration.ofMillis(450), Duration.ofMillis(2500));
        assertThat(fast.acceptedConnections()).isEqualTo(1);
        assertThat(silent.accepted()).isEqualTo(1);
    }

    /** Rogue answers, as hex, and the part of the failure message that names the offending byte. */
    static Stream<Arguments> rogueReplies() {
        return Stream.of(
                Arguments.of(Protocol.SOCKS5, false, new String[] {"04 00"}, "unsupported version 0x04"),
                Arguments.of(Protocol.SOCKS5, false, new String[] {"05 00", "04 00 00 01 7f 00 00 01 00 50"},
                        "unsupported version 0x04"),
                Arguments.of(Protocol.SOCKS5, false, new String[] {"05 02"}, "which was not offered"),
                Arguments.of(Protocol.SOCKS5, false, new String[] {"05 00", "05 00 00 07"},
                        "unknown address type 0x07"),
                Arguments.of(Protocol.SOCKS5, false, new String[] {"05 00", "05 0a 00 01 00 00 00 00 00 00"},
                        "unknown reply code 0x0a"),
                Arguments.of(Protocol.SOCKS5, true, new String[] {"05 00", "05 00 00 01 7f"},
                        "peer closed the connection"),
                Arguments.of(Protocol.SOCKS4, false, new String[] {"04 5a 00 00 00 00 00 00"}, "version 0x04"),
                Arguments.of(Protocol.SOCKS4, false, new String[] {"00 2a 00 00 00 00 00 00"},
                        "unknown reply code 0x2a"),
                Arguments.of(Protocol.HTTP, false, new String[] {"5353482d322e300d0a"}, "got byte 0x53 at offset 0"));
    }

    @ParameterizedTest
    @MethodSource("rogueReplies")
    void rogueHopFailsTheDialNamingTheHopAndTheByte(Protocol protocol, boolean thenClose, String[] replies,
            String expected) throws Exception {
        FakeProxy rogue = fake(FakeProxy.rogue(protocol, thenClose, replies));

        DialException failure = dialFails(chain(rogue.uri(protocol)), echoTarget(), TIMEOUTS);

        assertThat(failure.hopNumber()).isEqualTo(1);
        assertThat(failure.getMessage()).startsWith("chain test: hop 1/1 " + rogue.uri(protocol) + " ")
                .contains(expected);
        assertThat(rogue.accepted()).isEqualTo(1);
        assertThat(outstandingBuffers()).isZero();
    }

    @Test
    void rogueSecondHopBehindARealIntermediaryIsNamedAsHopTwo() throws Exception {
        SocksServer intermediary = server(SocksServerConfig.loopback());
        FakeProxy rogue = fake(FakeProxy.rogue(Protocol.SOCKS5, false, "05 00", "05 00 00 09"));

        DialException failure = dialFails(chain("socks5://127.0.0.1:" + intermediary.port(),
                rogue.uri(Protocol.SOCKS5)), echoTarget(), TIMEOUTS);

        assertThat(failure.hopNumber()).isEqualTo(2);
        assertThat(failure.getMessage()).startsWith("chain test: hop 2/2 " + rogue.uri(Protocol.SOCKS5) + " ")
                .contains("unknown address type 0x09");
        assertThat(intermediary.acceptedConnections()).isEqualTo(1);
        assertThat(rogue.accepted()).isEqualTo(1);
    }

    @Test
    void refusalIsReportedWithItsReplyCode() throws Exception {
        FakeProxy refusing = fake(FakeProxy.refusing());

        DialException failure = dialFails(chain(refusing.uri(Protocol.SOCKS5)), echoTarget(), TIMEOUTS);

        assertThat(failure.hopNumber()).isEqualTo(1);
        assertThat(failure.getMessage()).isEqualTo("chain test: hop 1/1 " + refusing.uri(Protocol.SOCKS5)
                + " CONNECT 127.0.0.1:" + echo.port() + ": refused CONNECTION_REFUSED(0x05)");
        assertThat(refusing.requests()).containsExactly(new Request(Protocol.SOCKS5, 1, "127.0.0.1", echo.port()));
        assertThat(failure.blame()).as("the last hop refused the destination").isEqualTo(DialException.Blame.DESTINATION);
    }

    @Test
    void realServerRefusingAClosedDestinationIsReportedForTheLastHop() throws Exception {
        SocksServer first = server(SocksServerConfig.loopback());
        SocksServer last = server(SocksServerConfig.loopback());
        int closed = closedPort();

        DialException failure = dialFails(chain("socks5://127.0.0.1:" + first.port(),
                "socks4://127.0.0.1:" + last.port()), Destination.ip(InetAddress.getLoopbackAddress(), closed),
                TIMEOUTS);

        assertThat(failure.hopNumber()).isEqualTo(2);
        assertThat(failure.getMessage()).startsWith("chain test: hop 2/2 socks4://127.0.0.1:" + last.port()
                + " CONNECT 127.0.0.1:" + closed + ": refused");
    }

    @Test
    void firstHopThatIsNotListeningFailsAsHopOne() throws Exception {
        int closed = closedPort();

        DialException failure = dialFails(chain("socks5://127.0.0.1:" + closed, "http://127.0.0.1:1"),
                echoTarget(), TIMEOUTS);

        assertThat(failure.hopNumber()).isEqualTo(1);
        assertThat(failure.getMessage()).startsWith("chain test: hop 1/2 socks5://127.0.0.1:" + closed
                + " connect failed: ");
        assertThat(failure.blame()).isEqualTo(DialException.Blame.CHAIN);
    }

    @Test
    void aSocketThisHostCannotMakeIsALocalFailureAndNotTheChains() throws Exception {
        SocksServer hop = server(SocksServerConfig.loopback());
        // What SocketChannel.open() or bind() throws when the process is out of descriptors.
        Connector.SocketSetup exhausted = channel -> {
            throw new IOException("Too many open files");
        };

        DialException failure = failureOf(dial(chain("socks5://127.0.0.1:" + hop.port()), echoTarget(), TIMEOUTS,
                exhausted));

        assertThat(failure.blame()).isEqualTo(DialException.Blame.LOCAL);
        assertThat(failure.getMessage()).isEqualTo("chain test: hop 1/1 socks5://127.0.0.1:" + hop.port()
                + " connect failed: Too many open files");
        assertThat(hop.acceptedConnections()).isZero();
    }

    // ---- resources ----

    @Test
    void failedDialsLeaveNoDescriptorOpenAndNoPooledBufferOutstanding() throws Exception {
        FakeProxy rogue = fake(FakeProxy.rogue(Protocol.SOCKS5, false, "05 00", "04 00"));
        FakeProxy truncating = fake(FakeProxy.rogue(Protocol.SOCKS5, true, "05 00", "05 00 00 01"));
        FakeProxy refusing = fake(FakeProxy.refusing());
        FakeProxy silent = fake(FakeProxy.unresponsive());
        FakeProxy relaying = fake(FakeProxy.terminal(Protocol.SOCKS5, Then.CONNECT));
        int closed = closedPort();
        ChainDialer.Timeouts quick =
                new ChainDialer.Timeouts(Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofSeconds(5));
        List<ProxyChain> failing = List.of(
                chain(rogue.uri(Protocol.SOCKS5)),
                chain(truncating.uri(Protocol.SOCKS5)),
                chain(refusing.uri(Protocol.SOCKS5)),
                chain(silent.uri(Protocol.SOCKS5)),
                chain("socks5://127.0.0.1:" + closed),
                new ProxyChain("lan", List.of()),
                chain(relaying.uri(Protocol.SOCKS5), rogue.uri(Protocol.SOCKS5)),
                chain(relaying.uri(Protocol.SOCKS5), silent.uri(Protocol.SOCKS5)));
        Destination closedTarget = Destination.ip(InetAddress.getLoopbackAddress(), closed);

        for (ProxyChain chain : failing) {
            dialFails(chain, closedTarget, quick);
        }
        awaitFakesIdle();
        long before = openDescriptors();

        int rounds = 10;
        for (int i = 0; i < rounds; i++) {
            for (ProxyChain chain : failing) {
                dialFails(chain, closedTarget, quick);
            }
        }
        awaitFakesIdle();

        assertThat(outstandingBuffers()).isZero();
        long after = openDescriptors();
        for (int i = 0; i < 50 && after > before; i++) {
            Thread.sleep(20);
            outstandingBuffers();
            after = openDescriptors();
        }
        // a leak of one descriptor per failed dial would show as +80; allow a little for unrelated JVM activity
        assertThat(after).as("open descriptors after %d failed dials", rounds * failing.size())
                .isLessThanOrEqualTo(before + 2);
    }

    @Test
    void firstHopGivenByNameIsResolvedToConnectAndTheCallbackStillRunsOnTheLoop() throws Exception {
        // both names are resolved on the blocking pool and handed back; checkCall sees the callback on the loop
        FakeProxy first = fake(FakeProxy.terminal(Protocol.SOCKS4, Then.CONNECT));
        FakeProxy second = fake(FakeProxy.terminal(Protocol.SOCKS5, Then.ECHO));

        Dialed tunnel = dialOk(chain("socks4://localhost:" + first.port(), "socks5://localhost:" + second.port()),
                echoTarget());

        assertEchoes(tunnel.channel(), "resolved twice".getBytes(StandardCharsets.US_ASCII));
        assertThat(first.accepted()).isEqualTo(1);
        assertThat(second.accepted()).isEqualTo(1);
    }

    // ---- helpers ----

    private FakeProxy fake(FakeProxy fake) {
        fakes.add(fake);
        return fake;
    }

    private SocksServer server(SocksServerConfig config) throws IOException {
        SocksServer server = SocksServer.start(config);
        servers.add(server);
        return server;
    }

    private static ProxyChain chain(String... hopUris) {
        return new ProxyChain("test", Arrays.stream(hopUris).map(ProxyHop::parse).toList());
    }

    private Destination echoTarget() {
        return Destination.ip(InetAddress.getLoopbackAddress(), echo.port());
    }

    /** A loopback port nothing listens on (bound once, then released). */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private CompletableFuture<Dialed> dial(ProxyChain chain, Destination target, ChainDialer.Timeouts timeouts) {
        return dial(chain, target, timeouts, Connector.SocketSetup.NONE);
    }

    private CompletableFuture<Dialed> dial(ProxyChain chain, Destination target, ChainDialer.Timeouts timeouts,
            Connector.SocketSetup setup) {
        CompletableFuture<Dialed> result = new CompletableFuture<>();
        AtomicInteger calls = new AtomicInteger();
        loop.execute(() -> new ChainDialer(loop, blocking, setup).dial(chain, target, timeouts,
                new ChainDialer.Callback() {
                    @Override
                    public void connected(SocketChannel channel, ByteBuffer earlyData, Duration latency) {
                        checkCall(calls, "connected");
                        dialed.add(channel);
                        byte[] early = new byte[earlyData.remaining()];
                        earlyData.get(early);
                        loop.buffers().release(earlyData);
                        result.complete(new Dialed(channel, early, latency));
                    }

                    @Override
                    public void failed(DialException failure) {
                        checkCall(calls, "failed");
                        result.completeExceptionally(failure);
                    }
                }));
        return result;
    }

    private void checkCall(AtomicInteger calls, String which) {
        if (!loop.inLoop()) {
            problems.add(new AssertionError(which + " called off the loop, on " + Thread.currentThread()));
        }
        if (calls.incrementAndGet() > 1) {
            problems.add(new AssertionError(which + " called after the dial had already ended"));
        }
    }

    private Dialed dialOk(ProxyChain chain, Destination target) throws Exception {
        try {
            return dial(chain, target, TIMEOUTS).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("dial through " + chain + " failed: " + e.getCause(), e.getCause());
        }
    }

    private DialException dialFails(ProxyChain chain, Destination target, ChainDialer.Timeouts timeouts)
            throws Exception {
        return failureOf(dial(chain, target, timeouts));
    }

    private static DialException failureOf(CompletableFuture<Dialed> result) throws Exception {
        assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(DialException.class);
        try {
            result.get();
            throw new AssertionError("unreachable");
        } catch (ExecutionException e) {
            return (DialException) e.getCause();
        }
    }

    private <T> T onLoop(java.util.concurrent.Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                result.complete(task.call());
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    /** Pooled buffers taken and not released, read on the loop (the pool is the loop's alone). */
    private long outstandingBuffers() throws Exception {
        return onLoop(() -> loop.buffers().outstanding());
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count();
        }
    }

    private void awaitFakesIdle() {
        Eventually.until(Eventually.DEFAULT_DEADLINE, () -> fakes.stream().allMatch(f -> f.openConnections() == 0),
                () -> "fake proxies with open connections: " + fakes.stream()
                        .filter(f -> f.openConnections() > 0).toList());
    }

    /** Sends {@code payload} through the tunnel and expects it back, polling the non-blocking channel. */
    private static void assertEchoes(SocketChannel channel, byte[] payload) throws Exception {
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
            try {
                return receive(channel, payload.length);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        ByteBuffer out = ByteBuffer.wrap(payload);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (out.hasRemaining() && System.nanoTime() < deadline) {
            if (channel.write(out) == 0) {
                Thread.sleep(1);
            }
        }
        assertThat(received.get(20, TimeUnit.SECONDS)).isEqualTo(payload);
    }

    private static byte[] receive(SocketChannel channel, int length) throws IOException, InterruptedException {
        ByteBuffer in = ByteBuffer.allocate(length);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (in.hasRemaining() && System.nanoTime() < deadline) {
            int n = channel.read(in);
            if (n < 0) {
                break;
            }
            if (n == 0) {
                Thread.sleep(1);
            }
        }
        return Arrays.copyOf(in.array(), in.position());
    }
}
