package dev.chainsocks.linux;

import java.io.IOException;
import java.nio.channels.NetworkChannel;

/** The Linux socket options the JDK does not expose, set on JDK channels. Implemented by {@link LinuxSockets}. */
public interface KernelSocketOptions {

    /**
     * Sets {@code SO_MARK}, so routing rules and iptables can recognise (and not redirect again) our own outgoing
     * connections. Needs {@code CAP_NET_ADMIN} (or {@code CAP_NET_RAW} on Linux 5.17 and later).
     */
    void setMark(NetworkChannel channel, int mark) throws IOException;

    /**
     * Sets {@code IPV6_V6ONLY} on an IPv6 socket before bind. With {@code true}, {@code [::]:P} no longer claims the
     * IPv4 side, so {@code 0.0.0.0:P} can be bound by a second socket.
     *
     * @throws IllegalArgumentException when the channel is not an IPv6 socket
     */
    void setIpv6Only(NetworkChannel channel, boolean ipv6Only) throws IOException;

    /**
     * Sets {@code IP_TRANSPARENT} (and {@code IPV6_TRANSPARENT} on IPv6 sockets) so a TPROXY listener can accept
     * connections addressed to other hosts. Needs {@code CAP_NET_ADMIN} (or {@code CAP_NET_RAW}).
     */
    void setTransparent(NetworkChannel channel) throws IOException;
}
