package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class AcceptorPerLoopTest {

    private static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final EventLoopGroup group = new EventLoopGroup("per-loop-test", 2);
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        group.close();
    }

    @Test
    void eachLoopAcceptsAndServesOnItsOwnSocket() throws Exception {
        Map<String, AtomicInteger> byThread = new ConcurrentHashMap<>();
        int connections = 200;
        CountDownLatch served = new CountDownLatch(connections);
        List<SocketChannel> accepted = new ArrayList<>();
        Acceptor acceptor = Acceptor.listenPerLoop(group, ANY_LOOPBACK_PORT, 128, Acceptor.ListenerSetup.NONE,
                new ConnectionLimit(10_000), "listener", (loop, channel, from) -> {
                    assertThat(loop.inLoop()).as("handed to the loop that accepted it").isTrue();
                    byThread.computeIfAbsent(Thread.currentThread().getName(), k -> new AtomicInteger())
                            .incrementAndGet();
                    synchronized (accepted) {
                        accepted.add(channel);
                    }
                    served.countDown();
                });
        closing.add(acceptor);
        acceptor.start();
        assertThat(acceptor.name()).isEqualTo("listener 127.0.0.1:" + acceptor.localAddress().getPort());
        for (int i = 0; i < connections; i++) {
            Socket client = new Socket();
            closing.add(client);
            client.connect(acceptor.localAddress(), 5000);
        }
        assertThat(served.await(20, TimeUnit.SECONDS)).isTrue();
        // The kernel spreads connections over the sockets by a hash of their addresses and ports: with 200
        // client ports, both loops get some.
        assertThat(byThread).as("connections per loop thread").hasSize(2);
        synchronized (accepted) {
            accepted.forEach(ChannelClose::quietly);
        }
    }

    @Test
    void anotherListenerOnTheAddressIsNotJoinedEvenWithReusePort() throws Exception {
        for (boolean reusePort : new boolean[] {false, true}) {
            ServerSocketChannel other = ServerSocketChannel.open();
            closing.add(other);
            other.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            other.setOption(StandardSocketOptions.SO_REUSEPORT, reusePort);
            other.bind(ANY_LOOPBACK_PORT);
            InetSocketAddress taken = (InetSocketAddress) other.getLocalAddress();
            assertThatThrownBy(() -> Acceptor.listenPerLoop(group, taken, 128, Acceptor.ListenerSetup.NONE,
                    new ConnectionLimit(10), "listener", (loop, channel, from) -> { }))
                    .as("with SO_REUSEPORT %s on the other socket", reusePort)
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot listen on 127.0.0.1:" + taken.getPort());
        }
    }

    @Test
    void closingReleasesTheAddress() throws Exception {
        Acceptor acceptor = Acceptor.listenPerLoop(group, ANY_LOOPBACK_PORT, 128, Acceptor.ListenerSetup.NONE,
                new ConnectionLimit(10), "listener", (loop, channel, from) -> ChannelClose.quietly(channel));
        acceptor.start();
        InetSocketAddress address = acceptor.localAddress();
        acceptor.close();
        // The loops close their sockets on their own threads; then the address is free again.
        Eventually.until("the address is free after close: " + address, () -> canBind(address));
    }

    private static boolean canBind(InetSocketAddress address) {
        try (ServerSocketChannel again = ServerSocketChannel.open()) {
            again.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            again.bind(address);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
