package dev.chainsocks.engine;

import dev.chainsocks.proto.Destination;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Turns a {@link Destination} into a socket address without blocking the loop: IP destinations at once, names on
 * the blocking pool with the answer handed back to the loop.
 */
public final class Resolver {

    private final EventLoop loop;
    private final Executor blocking;

    public Resolver(EventLoop loop, Executor blocking) {
        this.loop = loop;
        this.blocking = blocking;
    }

    /** Loop thread only; exactly one of the two consumers is called, on the loop. */
    public void resolve(Destination destination, Consumer<InetSocketAddress> then, Consumer<IOException> otherwise) {
        if (destination instanceof Destination.Ip ip) {
            then.accept(ip.socketAddress());
            return;
        }
        Destination.Name name = (Destination.Name) destination;
        try {
            blocking.execute(() -> {
                try {
                    InetAddress address = InetAddress.getByName(name.host());
                    loop.execute(() -> then.accept(new InetSocketAddress(address, name.port())));
                } catch (IOException e) {
                    loop.execute(() -> otherwise.accept(e));
                }
            });
        } catch (RejectedExecutionException e) {
            otherwise.accept(new IOException("too many name lookups waiting", e));
        }
    }
}
