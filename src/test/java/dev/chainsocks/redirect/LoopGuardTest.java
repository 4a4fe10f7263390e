package dev.chainsocks.redirect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.engine.Connector;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The two ways a connection can loop back into chainsocks, and the connections that must not be mistaken for one. */
class LoopGuardTest {

    private static final InetSocketAddress LISTENER = new InetSocketAddress("127.0.0.1", 12345);
    private static final InetSocketAddress DESTINATION = new InetSocketAddress("198.51.100.7", 443);

    private final LoopGuard guard = new LoopGuard();

    @Test
    void anOrdinaryRedirectedConnectionPasses() {
        assertThat(guard.check(new InetSocketAddress("127.0.0.1", 40000), LISTENER.getPort(), DESTINATION)).isNull();
    }

    @Test
    void aDestinationThatIsTheListenerItselfIsALoop() {
        String reason = guard.check(new InetSocketAddress("127.0.0.1", 40001), LISTENER.getPort(), LISTENER);

        assertThat(reason).contains("own listener 127.0.0.1:12345");
    }

    @Test
    void aConnectionFromOneOfOurOwnUpstreamSocketsIsALoopUntilThatSocketCloses() {
        InetSocketAddress ourUpstream = new InetSocketAddress("127.0.0.1", 40002);
        LoopGuard.OwnSocket own = new LoopGuard.OwnSocket(ourUpstream, DESTINATION);
        guard.ownSocketConnected(own);

        assertThat(guard.check(ourUpstream, LISTENER.getPort(), DESTINATION)).contains("own upstream socket 127.0.0.1:40002");

        guard.ownSocketClosed(own);
        assertThat(guard.check(ourUpstream, LISTENER.getPort(), DESTINATION)).isNull();
    }

    @Test
    void anotherProgramsConnectionFromThePortOfOneOfOurSocketsIsNoLoop() {
        // connect() gives the same local port to two sockets with different destinations: ours to the proxy, and a
        // local program's, redirected to us, to somewhere else.
        InetSocketAddress sharedPort = new InetSocketAddress("127.0.0.1", 40003);
        guard.ownSocketConnected(new LoopGuard.OwnSocket(sharedPort, new InetSocketAddress("127.0.0.1", 1080)));

        assertThat(guard.check(sharedPort, LISTENER.getPort(), DESTINATION)).isNull();
    }

    @Test
    void theSameAddressesFromAnotherHostAreNotALoop() {
        guard.ownSocketConnected(new LoopGuard.OwnSocket(new InetSocketAddress("127.0.0.1", 40003), DESTINATION));

        // 192.0.2.0/24 (TEST-NET-1) is never an address of this host
        assertThat(guard.check(new InetSocketAddress("192.0.2.9", 40003), LISTENER.getPort(), DESTINATION)).isNull();
    }

    @Test
    void aTransparentListenerSeesForeignDestinationsAsItsLocalAddressAndThatIsNoLoop() {
        // With TPROXY the accepted socket's local address is the destination, on its own port, not ours.
        InetSocketAddress remote = new InetSocketAddress("198.51.100.7", LISTENER.getPort());
        assertThat(guard.check(new InetSocketAddress("127.0.0.1", 40004), LISTENER.getPort(), DESTINATION)).isNull();
        assertThat(guard.check(new InetSocketAddress("127.0.0.1", 40005), LISTENER.getPort(), remote))
                .as("same port on a host that is not this one").isNull();
    }

    @Test
    void addressesTwoUpstreamSocketsHadInTurnStayOursUntilBothSessionsForgetThem() throws Exception {
        InetSocketAddress ourUpstream = new InetSocketAddress("127.0.0.1", 40006);
        LoopGuard.OwnSocket own = new LoopGuard.OwnSocket(ourUpstream, DESTINATION);
        LoopGuard reused = new LoopGuard(channel -> own);
        List<LoopGuard.OwnSocket> recorded = new ArrayList<>();
        Connector.SocketSetup setup = reused.guarding(Connector.SocketSetup.NONE, recorded::add);

        for (int i = 0; i < 2; i++) {
            setup.beforeConnect(null, DESTINATION);
            setup.afterConnect(null, true);
        }
        assertThat(recorded).containsExactly(own, own);

        reused.ownSocketClosed(own);
        assertThat(reused.check(ourUpstream, LISTENER.getPort(), DESTINATION)).contains("own upstream socket");
        reused.ownSocketClosed(own);
        assertThat(reused.check(ourUpstream, LISTENER.getPort(), DESTINATION)).isNull();
    }

    @Test
    void aConnectThatFailedRecordsNoPortAndHoldsNoCheckBack() throws Exception {
        LoopGuard failing = new LoopGuard(channel -> {
            throw new AssertionError("no port is read for a connect that threw");
        });
        Connector.SocketSetup setup = failing.guarding(Connector.SocketSetup.NONE, own -> { });

        CompletableFuture.runAsync(() -> {
            setup.beforeConnect(null, DESTINATION);
            try {
                setup.afterConnect(null, false);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }).get(10, TimeUnit.SECONDS);

        assertThat(failing.check(new InetSocketAddress("127.0.0.1", 40007), LISTENER.getPort(), DESTINATION))
                .isNull();
    }

    /**
     * The kernel picks the port inside connect(), and a looped connection can reach another loop before the
     * connecting loop has read it: the check must wait for that connect instead of letting the loop pass.
     */
    @Test
    void aCheckWaitsForAConnectOnAnotherThreadToRecordItsPort() throws Exception {
        CountDownLatch portRead = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        LoopGuard slow = new LoopGuard(channel -> {
            portRead.countDown();
            await(release);
            return new LoopGuard.OwnSocket(new InetSocketAddress("127.0.0.1", 40008), DESTINATION);
        });
        Connector.SocketSetup setup = slow.guarding(Connector.SocketSetup.NONE, own -> { });
        CompletableFuture<Void> connecting = CompletableFuture.runAsync(() -> {
            setup.beforeConnect(null, DESTINATION);
            try {
                setup.afterConnect(null, true);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        await(portRead);

        Thread[] checker = new Thread[1];
        CompletableFuture<String> check = new CompletableFuture<>();
        checker[0] = new Thread(() -> check.complete(slow.check(new InetSocketAddress("127.0.0.1", 40008),
                LISTENER.getPort(), DESTINATION)), "loop-guard-check");
        checker[0].start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Arrays.stream(checker[0].getStackTrace()).noneMatch(f -> f.getMethodName().equals("awaitConnectsInFlight"))) {
            assertThat(check).as("the check returned while the connect had no port yet").isNotDone();
            assertThat(System.nanoTime()).as("the check never started waiting").isLessThan(deadline);
            Thread.onSpinWait();
        }
        assertThat(check).isNotDone();

        release.countDown();
        connecting.get(10, TimeUnit.SECONDS);
        assertThat(check.get(10, TimeUnit.SECONDS)).contains("own upstream socket 127.0.0.1:40008");
    }

    /** A connect in flight to the proxy holds back only connections whose destination is that proxy. */
    @Test
    void aCheckForAnotherDestinationDoesNotWaitForAConnectInFlight() throws Exception {
        CountDownLatch portRead = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        InetSocketAddress proxy = new InetSocketAddress("127.0.0.1", 1080);
        LoopGuard slow = new LoopGuard(channel -> {
            portRead.countDown();
            await(release);
            return new LoopGuard.OwnSocket(new InetSocketAddress("127.0.0.1", 40009), proxy);
        });
        Connector.SocketSetup setup = slow.guarding(Connector.SocketSetup.NONE, own -> { });
        CompletableFuture<Void> connecting = CompletableFuture.runAsync(() -> {
            setup.beforeConnect(null, proxy);
            try {
                setup.afterConnect(null, true);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        await(portRead);
        try {
            String reason = CompletableFuture.supplyAsync(() -> slow.check(new InetSocketAddress("127.0.0.1", 40010),
                    LISTENER.getPort(), DESTINATION)).get(10, TimeUnit.SECONDS);

            assertThat(reason).isNull();
            assertThat(connecting).isNotDone();
        } finally {
            release.countDown();
        }
        connecting.get(10, TimeUnit.SECONDS);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
