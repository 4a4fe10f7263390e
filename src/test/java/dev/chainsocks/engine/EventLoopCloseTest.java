package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A channel closed on the loop that holds it is closed at the start of the loop's next turn, once the selector has
 * let go of it (so the JDK needs no SO_LINGER read and shutdown of its own), and gets no event in between.
 */
class EventLoopCloseTest {

    private EventLoop loop;
    private ServerSocketChannel server;
    private SocketChannel ours;
    private SocketChannel peer;

    @BeforeEach
    void connect() throws Exception {
        loop = new EventLoop("close-test-loop", new BufferPool(1024, 1));
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        ours = SocketChannel.open(server.getLocalAddress());
        peer = server.accept();
        peer.socket().setSoTimeout(10_000);
        ours.configureBlocking(false);
    }

    @AfterEach
    void close() throws Exception {
        loop.close();
        ours.close();
        peer.close();
        server.close();
    }

    @Test
    void aRegisteredChannelClosesAtTheNextTurnWithoutAnotherEvent() throws Exception {
        AtomicInteger events = new AtomicInteger();
        CompletableFuture<Boolean> openRightAfterClose = new CompletableFuture<>();

        loop.execute(() -> {
            try {
                SelectionKey key = loop.register(ours, 0, new IoHandler() {
                    @Override
                    public void ready(SelectionKey selected) {
                        events.incrementAndGet();
                    }

                    @Override
                    public void failed(Throwable cause) {
                        events.incrementAndGet();
                    }
                });
                // Writable now: without the cancelled key the next select would hand this event over.
                key.interestOps(SelectionKey.OP_WRITE);
                ChannelClose.quietly(ours);
                ChannelClose.quietly(ours);
                openRightAfterClose.complete(ours.isOpen() && !key.isValid());
            } catch (Exception e) {
                openRightAfterClose.completeExceptionally(e);
            }
        });

        assertThat(openRightAfterClose.get(10, TimeUnit.SECONDS)).as("open, with its key cancelled").isTrue();
        assertThat(peer.read(ByteBuffer.allocate(16))).as("the peer reads the end").isEqualTo(-1);
        assertThat(ours.isOpen()).isFalse();
        assertThat(events).hasValue(0);
    }

    @Test
    void offTheLoopAChannelClosesAtOnce() throws Exception {
        CompletableFuture<Void> registered = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                loop.register(ours, SelectionKey.OP_READ, new IoHandler() {
                    @Override
                    public void ready(SelectionKey selected) {
                    }

                    @Override
                    public void failed(Throwable cause) {
                    }
                });
                registered.complete(null);
            } catch (Exception e) {
                registered.completeExceptionally(e);
            }
        });
        registered.get(10, TimeUnit.SECONDS);

        ChannelClose.quietly(ours);

        assertThat(ours.isOpen()).isFalse();
        assertThat(peer.read(ByteBuffer.allocate(16))).isEqualTo(-1);
    }
}
