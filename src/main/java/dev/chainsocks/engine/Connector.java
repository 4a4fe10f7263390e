package dev.chainsocks.engine;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/** Opens a TCP connection without blocking the loop, with a deadline. */
public final class Connector {

    /** Called on the loop with the connected channel (registered, no interest) or the failure. */
    public interface Callback {
        void connected(SocketChannel channel);

        void failed(IOException cause);
    }

    /** Applied to the new socket before it connects (for example SO_MARK so firewall rules can exempt it). */
    public interface SocketSetup {
        SocketSetup NONE = channel -> { };

        void apply(SocketChannel channel) throws IOException;
    }

    private Connector() {
    }

    /**
     * Loop thread only. The channel passed to {@code connected} is already registered on {@code loop}. A failure
     * to create or prepare our own socket (including no free local port) is a {@link LocalSocketException}.
     */
    public static void connect(EventLoop loop, InetSocketAddress target, Duration timeout, SocketSetup setup,
            Callback callback) {
        SocketChannel channel = null;
        boolean handedOff = false;
        try {
            channel = open(target, setup);
            if (channel.connect(target)) {
                loop.register(channel, 0, new Pending(channel, callback, null));
                handedOff = true;
                callback.connected(channel);
                return;
            }
            Pending pending = new Pending(channel, callback, target);
            loop.register(channel, SelectionKey.OP_CONNECT, pending);
            pending.timer = loop.schedule(timeout, pending::timedOut);
            handedOff = true;
        } catch (BindException e) {
            // connect() without a free local port (EADDRNOTAVAIL), or a bind in the setup
            callback.failed(new LocalSocketException(e));
        } catch (IOException e) {
            callback.failed(e);
        } finally {
            if (!handedOff) {
                ChannelClose.quietly(channel);
            }
        }
    }

    private static SocketChannel open(InetSocketAddress target, SocketSetup setup) throws LocalSocketException {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open(target.getAddress() instanceof Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            setup.apply(channel);
            return channel;
        } catch (IOException e) {
            ChannelClose.quietly(channel);
            throw new LocalSocketException(e);
        }
    }

    private static final class Pending implements IoHandler {
        final SocketChannel channel;
        final Callback callback;
        final InetSocketAddress target;
        Timer timer;
        boolean finished;

        Pending(SocketChannel channel, Callback callback, InetSocketAddress target) {
            this.channel = channel;
            this.callback = callback;
            this.target = target;
        }

        @Override
        public void ready(SelectionKey key) throws IOException {
            if (finished || !key.isConnectable()) {
                return;
            }
            if (channel.finishConnect()) {
                finished = true;
                timer.cancel();
                key.interestOps(0);
                callback.connected(channel);
            }
        }

        @Override
        public void failed(Throwable cause) {
            if (finished) {
                return;
            }
            finished = true;
            if (timer != null) {
                timer.cancel();
            }
            ChannelClose.quietly(channel);
            callback.failed(cause instanceof IOException io ? io : new IOException(cause));
        }

        void timedOut() {
            if (!finished) {
                failed(new SocketTimeoutException("connect to " + target + " timed out"));
            }
        }

        @Override
        public String toString() {
            return "connect " + target;
        }
    }
}
