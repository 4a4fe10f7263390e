package dev.chainsocks.server;

import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.IoHandler;
import dev.chainsocks.engine.Timer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Optional;

/**
 * The wait in the middle of a SOCKS BIND: the server has told the client where it listens, and now waits for the
 * one incoming connection while watching the client's control connection (a client that hangs up ends the wait;
 * bytes it sends meanwhile are kept for the relay). Exactly one {@link Outcome} method is called, on the loop; the
 * listening socket is closed by then. What to answer the client is the session's business, not this class's.
 */
final class BindWait {

    /** How the wait ended. {@code clientBytes}: what the client sent meanwhile, in read mode; the callee owns it. */
    interface Outcome {
        /** The expected peer connected from {@code address}; {@code peer} is non-blocking, owned by the callee. */
        void peerArrived(SocketChannel peer, InetSocketAddress address, ByteBuffer clientBytes);

        /** Someone else connected; they were reset. */
        void peerRefused(InetSocketAddress peer, ByteBuffer clientBytes);

        /** Nobody connected in time. */
        void timedOut(ByteBuffer clientBytes);

        /** The client went away or a socket failed. */
        void abandoned(String reason, ByteBuffer clientBytes);
    }

    private final EventLoop loop;
    private final SocketChannel client;
    private final ServerSocketChannel listener;
    private final Optional<InetAddress> expectedPeer;
    private final Outcome outcome;
    private ByteBuffer clientBytes;
    private Timer timer;
    private boolean over;

    private BindWait(EventLoop loop, SocketChannel client, ServerSocketChannel listener, ByteBuffer leftover,
            Optional<InetAddress> expectedPeer, Outcome outcome) {
        this.loop = loop;
        this.client = client;
        this.listener = listener;
        this.expectedPeer = expectedPeer;
        this.outcome = outcome;
        this.clientBytes = leftover != null ? leftover : ByteBuffer.allocate(4096).flip();
    }

    /**
     * Starts waiting on {@code loop} for a connection to the bound, non-blocking {@code listener}.
     *
     * @param expectedPeer when present, only a connection from this address is accepted as the peer
     * @param timeout      how long to wait for the peer
     */
    static void start(EventLoop loop, SocketChannel client, ServerSocketChannel listener, ByteBuffer leftover,
            Optional<InetAddress> expectedPeer, Duration timeout, Outcome outcome) {
        BindWait wait = new BindWait(loop, client, listener, leftover, expectedPeer, outcome);
        try {
            loop.register(listener, SelectionKey.OP_ACCEPT, wait.new ListenerWatch());
            loop.register(client, SelectionKey.OP_READ, wait.new ClientWatch());
        } catch (IOException e) {
            wait.abandon("cannot wait for the BIND peer: " + e.getMessage());
            return;
        }
        wait.timer = loop.schedule(timeout, wait::timeout);
    }

    private ByteBuffer takeClientBytes() {
        ByteBuffer rest = clientBytes;
        clientBytes = null;
        return rest;
    }

    /** Ends the wait: false if it had already ended. */
    private boolean finish() {
        if (over) {
            return false;
        }
        over = true;
        if (timer != null) {
            timer.cancel();
        }
        ChannelClose.quietly(listener);
        return true;
    }

    private void timeout() {
        if (finish()) {
            outcome.timedOut(takeClientBytes());
        }
    }

    private void abandon(String reason) {
        if (finish()) {
            outcome.abandoned(reason, takeClientBytes());
        }
    }

    /** The listening socket: the peer's connection. */
    private final class ListenerWatch implements IoHandler {
        @Override
        public void ready(SelectionKey key) throws IOException {
            SocketChannel peer = listener.accept();
            if (peer == null || over) {
                ChannelClose.quietly(peer);
                return;
            }
            InetSocketAddress peerAddress;
            try {
                peerAddress = (InetSocketAddress) peer.getRemoteAddress();
                peer.configureBlocking(false);
            } catch (IOException e) {
                ChannelClose.quietly(peer); // gone already: keep waiting for the real one
                return;
            }
            finish();
            if (expectedPeer.isPresent() && !expectedPeer.get().equals(peerAddress.getAddress())) {
                ChannelClose.withReset(peer);
                outcome.peerRefused(peerAddress, takeClientBytes());
                return;
            }
            outcome.peerArrived(peer, peerAddress, takeClientBytes());
        }

        @Override
        public void failed(Throwable cause) {
            abandon("BIND listener failed: " + cause.getMessage());
        }
    }

    /** The client's control connection: its hang-up, and bytes it sends early. */
    private final class ClientWatch implements IoHandler {
        @Override
        public void ready(SelectionKey key) throws IOException {
            if (over) {
                return;
            }
            clientBytes.compact();
            int n;
            try {
                n = client.read(clientBytes);
            } finally {
                clientBytes.flip();
            }
            if (n < 0) {
                abandon("client closed while waiting for the BIND peer");
            } else if (clientBytes.remaining() == clientBytes.capacity()) {
                key.interestOps(0);
            }
        }

        @Override
        public void failed(Throwable cause) {
            abandon("client failed while waiting for the BIND peer: " + cause.getMessage());
        }
    }
}
