package dev.chainsocks.udp;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.TimeoutsConfig;
import dev.chainsocks.config.UdpListenerConfig;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.EventLoopGroup;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.DurationSyntax;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.tinylog.Logger;

/**
 * Every {@code [[listener]] protocol = "udp"} of the configuration in force: TPROXY'd datagrams carried through
 * SOCKS5 UDP associations, one per flow ({@link UdpListener}, {@link UdpFlow}).
 *
 * <p>UDP listeners run on an event loop of their own (created only when there is a UDP listener), beside the TCP
 * redirector's loops; nothing on it blocks, and name resolution of hops runs on the loop group's blocking pool.
 * A reload keeps each listener whose settings, chains and timeouts are unchanged, with its flows, and replaces the
 * others (their flows end with outcome {@code closed}).
 */
public final class UdpRedirector implements AutoCloseable {

    private static final long CLOSE_WAIT_SECONDS = 5;

    private final AtomicLong flowIds = new AtomicLong();
    private EventLoopGroup group;
    private volatile List<UdpListener> listeners = List.of();

    private UdpRedirector() {
    }

    /** Binds every UDP listener of {@code config}; none is fine (then nothing runs). */
    public static UdpRedirector start(ChainsocksConfig config) throws IOException {
        UdpRedirector redirector = new UdpRedirector();
        boolean success = false;
        try {
            redirector.reload(config);
            success = true;
            return redirector;
        } finally {
            if (!success) {
                redirector.close();
            }
        }
    }

    /**
     * Applies the UDP listeners of {@code config}: unchanged ones stay, changed or removed ones close (first, so a
     * replacement can bind the same address), new ones bind.
     *
     * @throws IOException when a new listener cannot bind; the listeners bound before it stay in force
     */
    public synchronized void reload(ChainsocksConfig config) throws IOException {
        OptionalLong mark = config.service().mark();
        List<UdpListener> kept = new ArrayList<>();
        List<UdpListenerConfig> toOpen = new ArrayList<>();
        List<UdpListener> old = new ArrayList<>(listeners);
        for (UdpListenerConfig wanted : config.udpListeners()) {
            List<ProxyChain> chains = config.chainsOf(wanted);
            List<TimeoutsConfig> timeouts = timeoutsOf(config, wanted);
            UdpListener same = old.stream().filter(l -> l.sameAs(wanted, chains, timeouts, mark)).findFirst()
                    .orElse(null);
            if (same != null) {
                old.remove(same);
                kept.add(same);
            } else {
                toOpen.add(wanted);
            }
        }
        closeAll(old);
        List<UdpListener> now = new ArrayList<>(kept);
        try {
            for (UdpListenerConfig wanted : toOpen) {
                UdpListener listener = UdpListener.open(wanted, config.chainsOf(wanted), timeoutsOf(config, wanted),
                        mark, loop(), group.blocking(), flowIds::incrementAndGet);
                now.add(listener);
                Logger.info("listening for UDP on {} ({}) -> chains {}, flow-idle {}, max-flows {}",
                        AddressSyntax.format(wanted.listen()), wanted.destination()
                                .map(to -> "every datagram to " + AddressSyntax.format(to)).orElse("tproxy"),
                        wanted.chains(),
                        DurationSyntax.format(wanted.flowIdle()), wanted.maxFlows());
            }
        } finally {
            listeners = List.copyOf(now);
        }
        if (!kept.isEmpty() || !old.isEmpty()) {
            Logger.info("UDP listeners: {} kept with their flows, {} closed, {} opened", kept.size(), old.size(),
                    toOpen.size());
        }
    }

    private static List<TimeoutsConfig> timeoutsOf(ChainsocksConfig config, UdpListenerConfig listener) {
        return listener.chains().stream().map(config::timeoutsFor).toList();
    }

    private EventLoop loop() {
        if (group == null) {
            group = new EventLoopGroup("udp", 1);
        }
        return group.next();
    }

    /** The event loops UDP runs on (none while there is no UDP listener), for the watchdog's heartbeat. */
    public synchronized List<EventLoop> loops() {
        return group == null ? List.of() : group.loops();
    }

    /** Each UDP listener, in configuration order of binding. */
    public List<UdpListenerStatus> listeners() {
        return listeners.stream().map(UdpListener::status).toList();
    }

    /** Flows open now, over all UDP listeners. */
    public int activeFlows() {
        return listeners.stream().mapToInt(UdpListener::activeFlows).sum();
    }

    /** Closes the listeners on their loop, waiting a little for their flows to end, then stops the loop. */
    @Override
    public synchronized void close() {
        closeAll(listeners);
        listeners = List.of();
        if (group != null) {
            group.close();
            group = null;
        }
    }

    private static void closeAll(List<UdpListener> closing) {
        if (closing.isEmpty()) {
            return;
        }
        CountDownLatch done = new CountDownLatch(closing.size());
        for (UdpListener listener : closing) {
            listener.loop().execute(() -> {
                try {
                    listener.close();
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            if (!done.await(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                Logger.warn("UDP listeners did not close within {}s", CLOSE_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
