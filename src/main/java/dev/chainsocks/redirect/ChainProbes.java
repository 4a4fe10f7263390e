package dev.chainsocks.redirect;

import dev.chainsocks.chain.ChainSelector;
import dev.chainsocks.chain.ChainSelector.ProbeOutcome;
import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.LocalSocketException;
import dev.chainsocks.engine.Resolver;
import dev.chainsocks.engine.Timer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Checks down chains with connections of our own, so that no user's connection waits out a dead proxy's connect
 * timeout to find out whether it came back. Once a second, on one event loop, it asks each listener's selector for
 * the chains whose backoff has passed and connects to their first proxy (with the chain's connect timeout,
 * marked and bound like any upstream socket so the firewall exempts it and the loop guard knows it). A connection
 * that is accepted brings the chain back; anything else keeps it down for another backoff.
 *
 * <p>The probe checks that the first proxy answers, which is what a blackholed or stopped proxy fails; a proxy
 * that accepts and then fails its handshake is marked down again by the next dial through it.
 */
final class ChainProbes implements AutoCloseable {

    private static final Duration PERIOD = Duration.ofSeconds(1);

    /** What a probe needs from the redirector at the moment it starts. */
    record Target(ChainSelector selector, ChainsocksConfig config, Connector.SocketSetup setup) {
        Duration connectTimeout(ProxyChain chain) {
            return config.timeoutsFor(chain.name()).connect();
        }
    }

    private final EventLoop loop;
    private final Resolver resolver;
    private final LoopGuard loopGuard;
    private final Supplier<List<Target>> targets;
    private Timer timer;
    private volatile boolean closed;

    ChainProbes(EventLoop loop, Executor blocking, LoopGuard loopGuard, Supplier<List<Target>> targets) {
        this.loop = loop;
        this.resolver = new Resolver(loop, blocking);
        this.loopGuard = loopGuard;
        this.targets = targets;
    }

    void start() {
        loop.execute(this::tick);
    }

    private void tick() {
        if (closed) {
            return;
        }
        for (Target target : targets.get()) {
            for (ProxyChain chain : target.selector().takeDueProbes()) {
                probe(target, chain);
            }
        }
        timer = loop.schedule(PERIOD, this::tick);
    }

    private void probe(Target target, ProxyChain chain) {
        ProxyHop first = chain.hops().get(0);
        String what = "probe of hop 1 " + first;
        resolver.resolve(first.address(), address -> connect(target, chain, what, address),
                cause -> target.selector().reportProbe(chain, ProbeOutcome.FAILED,
                        what + ": cannot resolve: " + cause.getMessage()));
    }

    private void connect(Target target, ProxyChain chain, String what, InetSocketAddress address) {
        LoopGuard.OwnSocket[] own = new LoopGuard.OwnSocket[1];
        Connector.SocketSetup setup = loopGuard.guarding(target.setup(), recorded -> own[0] = recorded);
        Connector.connect(loop, address, target.connectTimeout(chain), setup, new Connector.Callback() {
            @Override
            public void connected(SocketChannel channel) {
                ChannelClose.quietly(channel);
                forget(own[0]);
                target.selector().reportProbe(chain, ProbeOutcome.REACHED, what + " connected");
            }

            @Override
            public void failed(IOException cause) {
                forget(own[0]);
                if (cause instanceof LocalSocketException) {
                    target.selector().reportProbe(chain, ProbeOutcome.INCONCLUSIVE, what + ": " + cause.getMessage());
                } else {
                    target.selector().reportProbe(chain, ProbeOutcome.FAILED, what + ": connect failed: "
                            + cause.getMessage());
                }
            }
        });
    }

    private void forget(LoopGuard.OwnSocket own) {
        if (own != null) {
            loopGuard.ownSocketClosed(own);
        }
    }

    @Override
    public void close() {
        closed = true;
        loop.execute(() -> {
            if (timer != null) {
                timer.cancel();
            }
        });
    }
}
