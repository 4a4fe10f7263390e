package dev.chainsocks.server;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The server's own listening addresses, so that it never dials itself. A CONNECT to its own port would hand the
 * server its own tunnel, and a client could nest such tunnels one inside the next as deep as it likes.
 *
 * <p>The check runs on the resolved address just before the connect, which then goes to exactly that address: a
 * host name that resolves to a local address is caught, and nothing can change between check and connect except
 * the host's interface addresses. A target reaches a listener when its port is the listener's and
 * <ul>
 *   <li>its address is the listener's own (a listener bound to one address), or
 *   <li>the listener is a wildcard ({@code 0.0.0.0}: any local IPv4 address; {@code ::}: any local address, as the
 *       socket also takes IPv4) and the address is this host's: loopback or assigned to an interface now, or
 *   <li>its address is itself a wildcard: Linux delivers a connect to {@code 0.0.0.0} or {@code ::} locally.
 * </ul>
 */
final class OwnListeners {

    private final List<InetSocketAddress> listeners;
    private final Predicate<InetAddress> assignedHere;

    /**
     * @param listeners    the bound addresses, with the ports the kernel picked
     * @param assignedHere whether an address (not loopback, not a wildcard) is one of this host's
     */
    OwnListeners(List<InetSocketAddress> listeners, Predicate<InetAddress> assignedHere) {
        this.listeners = List.copyOf(listeners);
        this.assignedHere = assignedHere;
    }

    /** Against this host's interfaces, looked up at each check so addresses added later count too. */
    static OwnListeners of(List<InetSocketAddress> listeners) {
        return new OwnListeners(listeners, OwnListeners::onAnInterface);
    }

    /** The listener a connection to {@code target} would arrive at, if any. */
    Optional<InetSocketAddress> reachedBy(InetSocketAddress target) {
        InetAddress address = unmapped(target.getAddress());
        if (address == null) {
            return Optional.empty();
        }
        for (InetSocketAddress listener : listeners) {
            if (listener.getPort() == target.getPort() && arrivesAt(address, listener.getAddress())) {
                return Optional.of(listener);
            }
        }
        return Optional.empty();
    }

    private boolean arrivesAt(InetAddress target, InetAddress listening) {
        if (target.isAnyLocalAddress()) {
            return true;
        }
        if (!listening.isAnyLocalAddress()) {
            return target.equals(unmapped(listening));
        }
        if (listening instanceof Inet4Address && !(target instanceof Inet4Address)) {
            return false;
        }
        return target.isLoopbackAddress() || assignedHere.test(target);
    }

    private static boolean onAnInterface(InetAddress address) {
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            // Cannot tell: count it as ours. Refusing a CONNECT is the safe side of this doubt.
            return true;
        }
    }

    /** {@code ::ffff:a.b.c.d} reaches IPv4 {@code a.b.c.d}; compare it as that. */
    private static InetAddress unmapped(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] bytes = address.getAddress();
            boolean mapped = bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = bytes[i] == 0;
            }
            if (mapped) {
                try {
                    return InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16));
                } catch (UnknownHostException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return address;
    }

    @Override
    public String toString() {
        return listeners.toString();
    }
}
