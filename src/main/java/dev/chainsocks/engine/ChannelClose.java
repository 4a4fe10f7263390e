package dev.chainsocks.engine;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.Channel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SocketChannel;

/** The two ways chainsocks closes a socket. */
public final class ChannelClose {

    private ChannelClose() {
    }

    /**
     * Closes, ignoring errors: for cleanup paths where the channel may already be broken. On an event loop, a
     * channel registered with it is closed at the start of the loop's next turn and gets no events meanwhile
     * ({@link EventLoop#closeAfterDeregistering}).
     */
    public static void quietly(Channel channel) {
        if (channel == null) {
            return;
        }
        if (channel instanceof SelectableChannel selectable && EventLoop.closeAfterDeregistering(selectable)) {
            return;
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing more to do for a channel we are abandoning
        }
    }

    /**
     * Closes with {@code SO_LINGER 0} so the kernel sends RST: the peer's application sees a failure at once
     * instead of a clean EOF that could pass for a complete answer.
     */
    public static void withReset(SocketChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            if (channel.isOpen()) {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException ignored) {
            // a socket that cannot take the option is closed plainly below
        }
        quietly(channel);
    }
}
