package dev.chainsocks.redirect;

import dev.chainsocks.engine.Connector;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.tinylog.Logger;

/**
 * Keeps chainsocks from dialing itself. Two ways a connection can loop:
 * <ol>
 *   <li>a client connected straight to our port: nothing was NATed, so the "original destination" is our own
 *       listening port on one of this host's addresses (conntrack reports the socket's local address). With
 *       TPROXY the local address is always the destination, so it is the port and locality that tell;
 *   <li>our own upstream connection was caught by the REDIRECT rule (a missing exemption): the client is one of
 *       our upstream sockets' local addresses and the original destination is where that socket connects.
 * </ol>
 * The second check matches whole connections, not ports: upstream sockets are not bound before they connect (see
 * {@link Connector}), so the kernel may give one of them a port that another program on this host also uses, to
 * another destination. It picks that port inside {@code connect()}, and loopback can deliver the looped connection
 * to another event loop before that call has even returned. So each socket set up by {@link #guarding} marks its
 * thread as connecting to its target until its addresses are recorded, and {@link #check} first waits for every
 * thread in the middle of a connect to the destination being checked: the second check cannot race the kernel.
 * Each offending source is logged once.
 */
public final class LoopGuard {

    /**
     * One thread's connects: {@link #value} is odd while a connect of that thread to {@link #target} has not yet
     * had its addresses recorded. The target is written before the sequence turns odd.
     */
    private static final class ConnectSequence {
        volatile InetSocketAddress target;
        volatile long value;
    }

    /** One of our upstream connections: its local address and where it connects. */
    public record OwnSocket(InetSocketAddress local, InetSocketAddress remote) {
    }

    /**
     * Our upstream connections, each with how many sockets have it: a closed socket's addresses can come back on a
     * new socket (on another loop) before the old one's session has forgotten them.
     */
    private final Map<OwnSocket, Integer> ownSockets = new ConcurrentHashMap<>();
    private final Map<InetAddress, Boolean> warned = new ConcurrentHashMap<>();
    private final List<ConnectSequence> sequences = new CopyOnWriteArrayList<>();
    private final ThreadLocal<ConnectSequence> threadSequence = ThreadLocal.withInitial(() -> {
        ConnectSequence sequence = new ConnectSequence();
        sequences.add(sequence);
        return sequence;
    });
    private final AddressReader addresses;

    /** How the guard reads a socket's addresses right after {@code connect()}. */
    interface AddressReader {
        OwnSocket of(SocketChannel channel) throws IOException;
    }

    public LoopGuard() {
        this(channel -> new OwnSocket(LinuxSockets.get().localAddress(channel),
                (InetSocketAddress) channel.getRemoteAddress()));
    }

    /** With another way to read a socket's addresses (tests). */
    LoopGuard(AddressReader addresses) {
        this.addresses = addresses;
    }

    /**
     * {@code setup} for an upstream socket, plus the bookkeeping of this guard: the socket's addresses are recorded
     * as ours once {@code connect()} has chosen its port, and given to {@code recorded} (the caller hands them
     * back to {@link #ownSocketClosed} when the socket closes).
     */
    public Connector.SocketSetup guarding(Connector.SocketSetup setup, Consumer<OwnSocket> recorded) {
        return new Connector.SocketSetup() {
            @Override
            public void apply(SocketChannel channel) throws IOException {
                setup.apply(channel);
            }

            @Override
            public void beforeConnect(SocketChannel channel, InetSocketAddress target) {
                ConnectSequence sequence = threadSequence.get();
                sequence.target = target;
                sequence.value++;
            }

            @Override
            public void afterConnect(SocketChannel channel, boolean issued) throws IOException {
                ConnectSequence sequence = threadSequence.get();
                try {
                    if (issued) {
                        OwnSocket own = addresses.of(channel);
                        ownSocketConnected(own);
                        recorded.accept(own);
                    }
                } finally {
                    sequence.value++;
                }
            }
        };
    }

    /** Records one of our upstream connections. */
    void ownSocketConnected(OwnSocket own) {
        ownSockets.merge(own, 1, Integer::sum);
    }

    public void ownSocketClosed(OwnSocket own) {
        ownSockets.computeIfPresent(own, (key, count) -> count == 1 ? null : count - 1);
    }

    /**
     * Waits until no connect to {@code destination} that began before this call is still without its recorded
     * addresses: only such a connect can be the origin of a looped connection to that destination. A connect and
     * its recording are a few microseconds on another loop; the wait is longer only if that thread was preempted
     * in between, and then it yields its core to it.
     */
    private void awaitConnectsInFlight(InetSocketAddress destination) {
        ConnectSequence mine = threadSequence.get();
        for (ConnectSequence sequence : sequences) {
            long seen = sequence.value;
            // Read after the odd value: the target of that connect, or of a later one when that connect is done.
            if ((seen & 1) == 0 || sequence == mine || !destination.equals(sequence.target)) {
                continue;
            }
            for (int spins = 0; sequence.value == seen; spins++) {
                if (spins < 1024) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }
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
        awaitConnectsInFlight(destination);
        if (destination.getPort() == listenerPort && isLocal(destination.getAddress())) {
            reason = "the original destination is chainsocks' own listener " + AddressSyntax.format(destination)
                    + " (a direct connection to the port, or the firewall rule did not NAT it)";
        } else if (ownSockets.containsKey(new OwnSocket(client, destination))) {
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
