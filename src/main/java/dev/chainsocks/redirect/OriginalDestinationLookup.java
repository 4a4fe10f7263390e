package dev.chainsocks.redirect;

import dev.chainsocks.linux.LinuxSockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;

/**
 * Where an intercepted connection was going before the firewall sent it to us. The one seam between the kernel and
 * the redirector: production reads netfilter's record, TPROXY reads the socket's own local address, tests supply
 * a fixed answer.
 */
@FunctionalInterface
public interface OriginalDestinationLookup {

    InetSocketAddress lookup(SocketChannel accepted) throws IOException;

    /**
     * REDIRECT/DNAT: {@code getsockopt(SO_ORIGINAL_DST)} or {@code IP6T_SO_ORIGINAL_DST} from conntrack.
     *
     * @throws IllegalStateException at once, not at the first connection, when the native call cannot work here
     */
    static OriginalDestinationLookup netfilter() {
        LinuxSockets.unavailableReason().ifPresent(reason -> {
            throw new IllegalStateException("cannot read original destinations (SO_ORIGINAL_DST): " + reason
                    + " (if /tmp is mounted noexec, start java with -Djffi.extract.dir=<a writable, executable dir>)");
        });
        LinuxSockets sockets = LinuxSockets.get();
        return new OriginalDestinationLookup() {
            @Override
            public InetSocketAddress lookup(SocketChannel accepted) throws IOException {
                return sockets.originalDestination(accepted);
            }

            @Override
            public String toString() {
                return "netfilter SO_ORIGINAL_DST";
            }
        };
    }

    /** TPROXY: the kernel delivers the connection to a transparent socket whose local address is the destination. */
    static OriginalDestinationLookup tproxy() {
        return new OriginalDestinationLookup() {
            @Override
            public InetSocketAddress lookup(SocketChannel accepted) throws IOException {
                return (InetSocketAddress) accepted.getLocalAddress();
            }

            @Override
            public String toString() {
                return "tproxy getsockname";
            }
        };
    }
}
