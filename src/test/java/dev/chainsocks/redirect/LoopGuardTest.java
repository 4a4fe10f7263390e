package dev.chainsocks.redirect;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
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
    void aConnectionFromOneOfOurOwnUpstreamPortsIsALoopUntilThatSocketCloses() {
        InetSocketAddress ourUpstream = new InetSocketAddress("127.0.0.1", 40002);
        guard.ownSocketBound(40002);

        assertThat(guard.check(ourUpstream, LISTENER.getPort(), DESTINATION)).contains("own upstream socket 127.0.0.1:40002");

        guard.ownSocketClosed(40002);
        assertThat(guard.check(ourUpstream, LISTENER.getPort(), DESTINATION)).isNull();
    }

    @Test
    void theSamePortFromAnotherHostIsNotALoop() {
        guard.ownSocketBound(40003);

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
}
