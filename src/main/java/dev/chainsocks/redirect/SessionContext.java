package dev.chainsocks.redirect;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.TimeoutsConfig;
import dev.chainsocks.dns.FakeIpMap;
import dev.chainsocks.engine.Connector;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Everything a {@link RedirectSession} needs, fixed when its connection is accepted: the listener's runtime (lookup,
 * chains and policy), the configuration of that moment, and the redirector's shared parts. A session never calls
 * back into the redirector; a reload builds new contexts for new connections only.
 *
 * @param listener      lookup, listener config and chain selector of the listener that accepted the connection
 * @param config        the configuration in force at accept time
 * @param upstreamSetup applied to each upstream socket before it connects (SO_MARK)
 * @param loopGuard     refuses connections to ourselves and knows our upstream sockets' ports
 * @param counters      service-wide totals
 * @param blocking      where blocking name lookups run, off the loops
 * @param live          the redirector's table of live sessions, for status and shutdown
 * @param fakeIps       the names that fake-IP pool addresses stand for ({@code [dns]})
 */
record SessionContext(Redirector.ListenerRuntime listener, ChainsocksConfig config,
        Connector.SocketSetup upstreamSetup, LoopGuard loopGuard, Counters counters, Executor blocking,
        Map<Long, RedirectSession> live, FakeIpMap fakeIps) {

    Duration idleTimeout() {
        return config.timeouts().idle();
    }

    ChainDialer.Timeouts timeoutsFor(ProxyChain chain) {
        TimeoutsConfig timeouts = config.timeoutsFor(chain.name());
        return new ChainDialer.Timeouts(timeouts.connect(), timeouts.handshake(), timeouts.dial());
    }
}
