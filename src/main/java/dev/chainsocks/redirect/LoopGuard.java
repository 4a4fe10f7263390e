package dev.chainsocks.redirect;

import dev.chainsocks.syntax.AddressSyntax;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.tinylog.Logger;

/**
 * Keeps chainsocks from dialing itself. Two ways a connection can loop:
 * <ol>
 *   <li>a client connected straight to our port: nothing was NATed, so the "original destination" is our own
 *       listening port on one of this host's addresses (conntrack reports the socket's local address). With
 *       TPROXY the local address is always the destination, so it is the port and locality that tell;
 *   <li>our own upstream connection was caught by the REDIRECT rule (a missing exemption): its source port is one
 *       of the ports our upstream sockets are bound to, on one of this host's addresses.
 * </ol>
 * Upstream sockets are bound before they connect and their ports recorded here, so the second check cannot race
 * the kernel. Each offending source is logged once.
 */
public final class LoopGuard {

    private final Set<Integer> ownSourcePorts = ConcurrentHashMap.newKeySet();
    private final Map<InetAddress, Boolean> warned = new ConcurrentHashMap<>();

    /** Records the local port of an upstream socket we are about to connect. */
    public void ownSocketBound(int port) {
        ownSourcePorts.add(port);
    }

    public void ownSocketClosed(int port) {
        ownSourcePorts.remove(port);
    }

    /**
     * Why this connection must not be dialed, or null when it is fine.
     *
     * @param client       the accepted connection's peer
     * @param listenerPort the port of the listener that accepted it
     * @param destination  what the lookup said the original destination was
     */
    public String check(InetSocketAddress client, int listenerPort, InetSocketAddress destination) {
        String reason = null;
        if (destination.getPort() == listenerPort && isLocal(destination.getAddress())) {
            reason = "the original destination is chainsocks' own listener " + AddressSyntax.format(destination)
                    + " (a direct connection to the port, or the firewall rule did not NAT it)";
        } else if (ownSourcePorts.contains(client.getPort()) && isLocal(client.getAddress())) {
            reason = "the connection comes from chainsocks' own upstream socket " + AddressSyntax.format(client)
                    + "; exempt our traffic in the firewall (service.mark or the service user)";
        }
        if (reason != null && warned.putIfAbsent(client.getAddress(), Boolean.TRUE) == null) {
            Logger.warn("loop guard: refusing connections from {}: {}", AddressSyntax.literal(client.getAddress()), reason);
        }
        return reason;
    }

    private static boolean isLocal(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
