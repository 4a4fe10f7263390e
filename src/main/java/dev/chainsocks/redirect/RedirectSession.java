package dev.chainsocks.redirect;

import dev.chainsocks.chain.ChainSelector;
import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.Relay;
import dev.chainsocks.log.AccessLog;
import dev.chainsocks.log.RefusalKind;
import dev.chainsocks.proto.Destination;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.tinylog.Logger;

/**
 * One intercepted connection: find where it was going, dial that through the listener's chains (trying the
 * policy's alternatives in order), relay, and log one line at the start and one at the end.
 *
 * <p>When no chain can be dialed the client is reset (RST), as redsocks' {@code on_proxy_fail=close}: the program
 * sees a failure at once rather than a clean close it might mistake for an empty answer.
 */
final class RedirectSession {

    private final Redirector redirector;
    private final Redirector.ListenerRuntime listener;
    private final EventLoop loop;
    private final SocketChannel client;
    private final Acceptor acceptor;
    private final long id = AccessLog.nextSessionId();
    private final long startNanos = System.nanoTime();
    private final List<Integer> upstreamPorts = new ArrayList<>(2);
    private InetSocketAddress clientAddress;
    private InetSocketAddress destination;
    private List<ProxyChain> candidates;
    private ProxyChain chain;
    private volatile String state = "lookup";
    private volatile Relay relay;
    private String failures;
    private boolean onlyDestinationRefusals = true;
    private boolean ended;

    RedirectSession(Redirector redirector, Redirector.ListenerRuntime listener, EventLoop loop, SocketChannel client,
            Acceptor acceptor) {
        this.redirector = redirector;
        this.listener = listener;
        this.loop = loop;
        this.client = client;
        this.acceptor = acceptor;
    }

    long id() {
        return id;
    }

    void start() {
        try {
            clientAddress = (InetSocketAddress) client.getRemoteAddress();
            destination = listener.lookup().lookup(client);
        } catch (IOException e) {
            refuse(RefusalKind.NO_ORIGINAL_DESTINATION, "no original destination: " + e.getMessage()
                    + " (is the firewall rule a REDIRECT to this port?)");
            return;
        } catch (RuntimeException e) {
            Logger.error(e, "session {}: original destination lookup failed", id);
            refuse(RefusalKind.NO_ORIGINAL_DESTINATION, "no original destination: " + e);
            return;
        }
        String loopReason = redirector.loopGuard().check(clientAddress, listener.config().listen().getPort(),
                destination);
        if (loopReason != null) {
            refuse(RefusalKind.LOOP, "loop: " + loopReason);
            return;
        }
        ChainSelector selector = listener.selector();
        candidates = selector.candidates();
        chain = candidates.get(0);
        AccessLog.start(id, clientAddress, AccessLog.format(destination), chain);
        state = "dialing";
        dial(0);
    }

    private void dial(int attempt) {
        ProxyChain candidate = candidates.get(attempt);
        chain = candidate;
        ChainDialer dialer = new ChainDialer(loop, redirector.group().blocking(), this::prepareUpstream);
        Destination target = Destination.ip(destination.getAddress(), destination.getPort());
        dialer.dial(candidate, target, redirector.timeoutsFor(candidate), new ChainDialer.Callback() {
            @Override
            public void connected(SocketChannel upstream, ByteBuffer earlyData, Duration latency) {
                listener.selector().reportSuccess(candidate, latency);
                redirector.counters().countDialed();
                if (ended) {
                    ChannelClose.quietly(upstream);
                    loop.buffers().release(earlyData);
                    return;
                }
                state = "relay";
                try {
                    relay = Relay.start(loop, client, upstream, null, earlyData, redirector.idleTimeout(),
                            result -> finish(result.bytesUp(), result.bytesDown(), result.outcome()));
                } catch (RuntimeException e) {
                    Logger.error(e, "session {}: cannot start the relay", id);
                    ChannelClose.quietly(upstream);
                    ChannelClose.withReset(client);
                    finish(0, 0, "internal error: " + e);
                }
            }

            @Override
            public void failed(DialException failure) {
                failures = failures == null ? failure.getMessage() : failures + "; " + failure.getMessage();
                if (!failure.destinationRefused()) {
                    // The chain worked if the last hop blamed the destination: not a reason to mark it down (one
                    // program trying a closed port would take it out of service).
                    onlyDestinationRefusals = false;
                    listener.selector().reportFailure(candidate, failure.getMessage());
                }
                if (!ended && attempt + 1 < candidates.size()) {
                    // Another chain is tried, even after a destination refusal: a proxy that lost its own uplink
                    // answers "unreachable" too. The end line repeats every reason, so only this one is logged now.
                    Logger.warn("session {}: {}; trying the next chain", id, failure.getMessage());
                    dial(attempt + 1);
                } else {
                    redirector.counters().countFailure(onlyDestinationRefusals ? "destination" : "dial");
                    ChannelClose.withReset(client);
                    finish(0, 0, (onlyDestinationRefusals ? "destination refused: " : "dial failed: ") + failures);
                }
            }
        });
    }

    /** Marks the socket for the firewall and binds it first, so the loop guard knows its source port. */
    private void prepareUpstream(SocketChannel upstream) throws IOException {
        redirector.upstreamSetup().apply(upstream);
        upstream.bind(null);
        int port = ((InetSocketAddress) upstream.getLocalAddress()).getPort();
        upstreamPorts.add(port);
        redirector.loopGuard().ownSocketBound(port);
    }

    private void refuse(RefusalKind kind, String reason) {
        ended = true;
        ChannelClose.quietly(client);
        redirector.counters().countFailure(kind == RefusalKind.LOOP ? "loop" : "lookup");
        AccessLog.refused(id, clientAddress, kind, reason);
        release();
    }

    private void finish(long up, long down, String outcome) {
        if (ended) {
            return;
        }
        ended = true;
        ChannelClose.quietly(client);
        redirector.counters().countTransferred(up, down);
        AccessLog.end(id, clientAddress, AccessLog.format(destination), chain, up, down,
                Duration.ofNanos(System.nanoTime() - startNanos), outcome);
        release();
    }

    private void release() {
        for (int port : upstreamPorts) {
            redirector.loopGuard().ownSocketClosed(port);
        }
        acceptor.release();
        redirector.sessionEnded(this);
    }

    /** Closes the session from another thread (shutdown after the grace period). */
    void abort(String reason) {
        loop.execute(() -> {
            Relay live = relay;
            if (live != null) {
                live.abort(reason);
            } else if (!ended) {
                ChannelClose.withReset(client);
                finish(0, 0, reason);
            }
        });
    }

    SessionInfo info() {
        Relay live = relay;
        return new SessionInfo(id, clientAddress, destination, chain == null ? "-" : chain.toString(), state,
                live == null ? 0 : live.bytesUp(), live == null ? 0 : live.bytesDown(),
                Duration.ofNanos(System.nanoTime() - startNanos));
    }
}
