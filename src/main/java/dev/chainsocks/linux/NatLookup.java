package dev.chainsocks.linux;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;

/**
 * Asks netfilter's NAT table where a redirected connection was originally going. {@link LinuxSockets} answers
 * with {@code SO_ORIGINAL_DST}; tests and other platforms can put their own answer in its place.
 */
@FunctionalInterface
public interface NatLookup {

    /**
     * The destination the client asked for before an iptables/nftables {@code REDIRECT} or {@code DNAT} sent the
     * connection to us.
     *
     * @param accepted a connection accepted by our listener, still open
     * @throws ErrnoException when the kernel has no NAT record for it ({@code ENOENT}) or the call fails
     */
    InetSocketAddress originalDestination(SocketChannel accepted) throws IOException;
}
