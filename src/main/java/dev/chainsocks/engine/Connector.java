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

    /**
     * Applied to the new socket before it connects (for example SO_MARK so firewall rules can exempt it), and told
     * when its {@code connect()} is about to be made and has been made, on the loop thread, with nothing in between
     * but the call. The kernel chooses the local port inside {@code connect()}, so {@link #afterConnect} is the
     * first moment it can be known; the bracket lets a caller make other threads wait for that moment.
     */
    public interface SocketSetup {
        SocketSetup NONE = channel -> { };

        void apply(SocketChannel channel) throws IOException;

        /** Right before {@code connect()} to {@code target}; always followed by {@link #afterConnect}. */
        default void beforeConnect(SocketChannel channel, InetSocketAddress target) {
        }

        /**
         * Right after {@code connect()} returned ({@code issued}: the connection is established or on its way) or
         * threw ({@code !issued}). Throwing fails the connection.
         */
        default void afterConnect(SocketChannel channel, boolean issued) throws IOException {
        }
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
            if (connect(channel, target, setup)) {
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

    /**
     * {@code connect()} without binding first: the kernel picks a local port that is free for this destination.
     * (A {@code bind()} to port 0 beforehand would take a port no socket of any destination uses, a search that
     * grows slow, and then fails, once tens of thousands of recent connections wait in TIME_WAIT.)
     */
    private static boolean connect(SocketChannel channel, InetSocketAddress target, SocketSetup setup)
            throws IOException {
        setup.beforeConnect(channel, target);
        boolean issued = false;
        boolean connected;
        try {
            connected = channel.connect(target);
            issued = true;
        } finally {
            setup.afterConnect(channel, issued);
        }
        return connected;
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
