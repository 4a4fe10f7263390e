package dev.chainsocks.redirect;

import dev.chainsocks.engine.Connector;
import dev.chainsocks.linux.LinuxSockets;
import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;
import java.util.function.ToIntFunction;
import org.tinylog.Logger;

/**
 * Keeps chainsocks from dialing itself. Two ways a connection can loop:
 * <ol>
 *   <li>a client connected straight to our port: nothing was NATed, so the "original destination" is our own
 *       listening port on one of this host's addresses (conntrack reports the socket's local address). With
 *       TPROXY the local address is always the destination, so it is the port and locality that tell;
 *   <li>our own upstream connection was caught by the REDIRECT rule (a missing exemption): its source port is one
 *       of the ports our upstream sockets use, on one of this host's addresses.
 * </ol>
 * Upstream sockets are not bound before they connect (see {@link Connector}): the kernel picks their port inside
 * {@code connect()}, and loopback can deliver the looped connection to another event loop before that call has
 * even returned. So each socket set up by {@link #guarding} marks its thread as connecting until its port is
 * recorded, and {@link #check} first waits for every thread that is in the middle of a connect to record its
 * port: the second check cannot race the kernel. Each offending source is logged once.
 */
public final class LoopGuard {

    /** One thread's connects: odd while a connect of that thread has not yet had its port recorded. */
    private static final class ConnectSequence {
        volatile long value;
    }

    /** Our upstream sockets' local ports, with how many sockets use each (one port can serve two destinations). */
    private final Map<Integer, Integer> ownSourcePorts = new ConcurrentHashMap<>();
    private final Map<InetAddress, Boolean> warned = new ConcurrentHashMap<>();
    private final List<ConnectSequence> sequences = new CopyOnWriteArrayList<>();
    private final ThreadLocal<ConnectSequence> threadSequence = ThreadLocal.withInitial(() -> {
        ConnectSequence sequence = new ConnectSequence();
        sequences.add(sequence);
        return sequence;
    });
    private final ToIntFunction<SocketChannel> localPort;

    public LoopGuard() {
        this(LoopGuard::kernelLocalPort);
    }

    /** With another way to read a socket's local port (tests). */
    LoopGuard(ToIntFunction<SocketChannel> localPort) {
        this.localPort = localPort;
    }

    private static int kernelLocalPort(SocketChannel channel) {
        try {
            return LinuxSockets.get().localPort(channel);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code setup} for an upstream socket, plus the bookkeeping of this guard: the socket's port is recorded as
     * ours once {@code connect()} has chosen it, and given to {@code recorded} (the caller hands it back to
     * {@link #ownSocketClosed} when the socket closes).
     */
    public Connector.SocketSetup guarding(Connector.SocketSetup setup, IntConsumer recorded) {
        return new Connector.SocketSetup() {
            @Override
            public void apply(SocketChannel channel) throws IOException {
                setup.apply(channel);
            }

            @Override
            public void beforeConnect(SocketChannel channel) {
                threadSequence.get().value++;
            }

            @Override
            public void afterConnect(SocketChannel channel, boolean issued) throws IOException {
                ConnectSequence sequence = threadSequence.get();
                try {
                    if (issued) {
                        int port;
                        try {
                            port = localPort.applyAsInt(channel);
                        } catch (UncheckedIOException e) {
                            throw e.getCause();
                        }
                        ownSocketBound(port);
                        recorded.accept(port);
                    }
                } finally {
                    sequence.value++;
                }
            }
        };
    }

    /** Records the local port of an upstream socket. */
    public void ownSocketBound(int port) {
        ownSourcePorts.merge(port, 1, Integer::sum);
    }

    public void ownSocketClosed(int port) {
        ownSourcePorts.computeIfPresent(port, (p, count) -> count == 1 ? null : count - 1);
    }

    /**
     * Waits until no connect that began before this call is still without its recorded port. A connect and its
     * recording are a few microseconds on another loop; the wait is longer only if that thread was preempted
     * in between, and then it yields its core to it.
     */
    private void awaitConnectsInFlight() {
        for (ConnectSequence sequence : sequences) {
            long seen = sequence.value;
            if ((seen & 1) == 0 || sequence == threadSequence.get()) {
                continue;
            }
            for (int spins = 0; sequence.value == seen; spins++) {
                if (spins < 64) {
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
        awaitConnectsInFlight();
        if (destination.getPort() == listenerPort && isLocal(destination.getAddress())) {
            reason = "the original destination is chainsocks' own listener " + AddressSyntax.format(destination)
                    + " (a direct connection to the port, or the firewall rule did not NAT it)";
        } else if (ownSourcePorts.containsKey(client.getPort()) && isLocal(client.getAddress())) {
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
