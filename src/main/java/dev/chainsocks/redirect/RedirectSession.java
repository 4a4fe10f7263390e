package dev.chainsocks.redirect;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.config.KeepaliveConfig;
import dev.chainsocks.config.ListenerConfig;
import dev.chainsocks.config.OnProxyFail;
import dev.chainsocks.dns.FakeIpMap;
import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.Exchange;
import dev.chainsocks.engine.IoHandler;
import dev.chainsocks.engine.Relay;
import dev.chainsocks.engine.Timer;
import dev.chainsocks.log.RefusalKind;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.http.HttpErrorPage;
import dev.chainsocks.proto.http.HttpRelayRequest;
import dev.chainsocks.proto.sniff.ServerNameSniffer;
import dev.chainsocks.session.ClientSession;
import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import jdk.net.ExtendedSocketOptions;
import org.tinylog.Logger;

/**
 * One intercepted connection, from accept to its end line, on one event loop. {@link #start()} reads as the life
 * of the connection in order: where was it going (the original destination), not to ourselves (the loop guard),
 * which chains (the policy's order), dial them in turn until one works, relay, one end line.
 *
 * <p>Everything the session needs from the redirector is in its {@link SessionContext}, fixed at accept time: a
 * reload that happens meanwhile changes nothing for it.
 *
 * <p>When no chain can be dialed the client is reset (RST), as redsocks' {@code on_proxy_fail=close}: the program
 * sees a failure at once rather than a clean close it might mistake for an empty answer. A listener with
 * {@code on-proxy-fail = "http-error"} answers a client bound for port 80 with an HTTP 502 page instead.
 */
final class RedirectSession extends ClientSession {

    private final SessionContext context;
    private final List<LoopGuard.OwnSocket> upstreamSockets = new ArrayList<>(2);
    private final List<DialException> failures = new ArrayList<>(1);
    private Destination destination;
    private InetSocketAddress destinationAddress;
    private Iterator<ProxyChain> untried;
    private volatile ProxyChain chain;
    private volatile SessionState state = SessionState.LOOKUP;
    private volatile Relay relay;
    /** Set between a dial through a protecting hop and the start of its relay, which then owns it. */
    private Relay.Protection protection;
    /** What the client sent while its first bytes were searched for a name; relayed first, unaltered. */
    private ByteBuffer peeked;

    RedirectSession(SessionContext context, EventLoop loop, SocketChannel client, Acceptor acceptor) {
        super(loop, client, acceptor);
        this.context = context;
    }

    /** Loop thread. */
    void start() {
        context.live().put(id, this);
        try {
            readClientAddress();
            keepalive(client);
            destinationAddress = context.listener().lookup().lookup(client);
        } catch (IOException e) {
            refuse(FailureReason.LOOKUP, RefusalKind.NO_ORIGINAL_DESTINATION, "no original destination: " + e.getMessage()
                    + " (is the firewall rule a REDIRECT to this port?)");
            return;
        } catch (RuntimeException e) {
            Logger.error(e, "session {}: original destination lookup failed", id);
            refuse(FailureReason.LOOKUP, RefusalKind.NO_ORIGINAL_DESTINATION, "no original destination: " + e);
            return;
        }
        FakeIpMap.Lookup named = context.fakeIps().lookup(destinationAddress.getAddress());
        if (named instanceof FakeIpMap.Lookup.Mapped mapped) {
            destination = Destination.name(mapped.name(), destinationAddress.getPort());
        } else if (named instanceof FakeIpMap.Lookup.Unmapped) {
            refuse(FailureReason.UNMAPPED, RefusalKind.UNMAPPED_FAKE_IP, "fake address "
                    + AddressSyntax.format(destinationAddress) + " stands for no name (its mapping expired or"
                    + " predates a restart; the client should resolve the name again)");
            return;
        } else {
            destination = Destination.ip(destinationAddress.getAddress(), destinationAddress.getPort());
        }
        String loopReason = context.loopGuard().check(clientAddress(), context.listener().config().listen().getPort(),
                destinationAddress);
        if (loopReason != null) {
            refuse(FailureReason.LOOP, RefusalKind.LOOP, "loop: " + loopReason);
            return;
        }
        if (context.listener().config().recoverName() == ListenerConfig.RecoverName.SNI_HOST
                && destination instanceof Destination.Ip) {
            new NamePeek().start();
            return;
        }
        chooseChains();
    }

    /** The chains in the policy's order; the start line; the first dial. */
    private void chooseChains() {
        List<ProxyChain> candidates = context.listener().selector().candidates();
        untried = candidates.iterator();
        started(destination, candidates.get(0).toString());
        state = SessionState.DIALING;
        dialNextChain();
    }

    /** Dials the next chain in the policy's order; {@link #dialFailed} comes back here while chains are left. */
    private void dialNextChain() {
        ProxyChain candidate = untried.next();
        chain = candidate;
        ChainDialer dialer = new ChainDialer(loop, context.blocking(),
                context.loopGuard().guarding(this::prepareUpstream, upstreamSockets::add),
                context.listener().config().discloseSource().headers(clientAddress()));
        dialer.dial(candidate, destination, context.timeoutsFor(candidate), new ChainDialer.Callback() {
            @Override
            public void connected(SocketChannel upstream, ByteBuffer earlyData, Duration latency) {
                dialed(candidate, upstream, null, earlyData, latency);
            }

            @Override
            public boolean acceptsProtection() {
                return true;
            }

            @Override
            public void connectedProtected(SocketChannel upstream, Relay.Protection protection,
                    ByteBuffer earlyPlaintext, Duration latency) {
                dialed(candidate, upstream, protection, earlyPlaintext, latency);
            }

            @Override
            public void failed(DialException failure) {
                dialFailed(candidate, failure);
            }
        });
    }

    /** {@code protection}: null, or the hop that protects every message on {@code upstream} (then copy mode). */
    private void dialed(ProxyChain dialedChain, SocketChannel upstream, Relay.Protection protection,
            ByteBuffer earlyData, Duration latency) {
        context.listener().selector().reportSuccess(dialedChain, latency);
        context.counters().countDialed();
        this.protection = protection;
        if (isOver()) {
            ChannelClose.quietly(upstream);
            loop.buffers().release(earlyData);
            disposeProtection();
            return;
        }
        List<ProxyHop> hops = dialedChain.hops();
        if (!hops.isEmpty() && hops.get(hops.size() - 1).protocol().relaysRequests()) {
            relayRequest(dialedChain, hops.get(hops.size() - 1), upstream, earlyData);
            return;
        }
        startRelay(upstream, null, earlyData);
    }

    /** A protection the relay did not take over (the session ended before it started). */
    private void disposeProtection() {
        if (protection != null) {
            protection.protection().dispose();
            protection = null;
        }
    }

    /**
     * An http-relay last hop: reads the client's HTTP request head, sends it rewritten (absolute form) to the
     * proxy ahead of the rest of the client's bytes, then relays as usual.
     */
    private void relayRequest(ProxyChain dialedChain, ProxyHop hop, SocketChannel upstream, ByteBuffer earlyData) {
        HttpRelayRequest request = new HttpRelayRequest(destination, hop.user().orElse(null),
                hop.password().orElse(null), context.listener().config().discloseSource().headers(clientAddress()));
        // Bytes the name recovery already read are the start of the request.
        Exchange.start(loop, client, new Exchange.Machine(request::receive, () -> ByteBuffer.allocate(0),
                        request::isFinished), takePeeked(), context.timeoutsFor(dialedChain).handshake(),
                "client's HTTP request for " + hop, new Exchange.Callback() {
                    @Override
                    public void finished(ByteBuffer leftover) {
                        if (request.outcome() instanceof HttpRelayRequest.Outcome.Rewritten rewritten) {
                            ByteBuffer toUpstream = ByteBuffer.allocate(rewritten.head().remaining()
                                    + leftover.remaining());
                            toUpstream.put(rewritten.head()).put(leftover).flip();
                            loop.buffers().release(leftover);
                            startRelay(upstream, toUpstream, earlyData);
                        } else {
                            loop.buffers().release(leftover);
                            relayFailed(upstream, earlyData, "http-relay: " + request.outcome());
                        }
                    }

                    @Override
                    public void failed(IOException cause) {
                        relayFailed(upstream, earlyData, "http-relay: no HTTP request from the client: "
                                + cause.getMessage());
                    }
                });
    }

    /** What the name recovery read from the client, ready to be read, or null; once. */
    private ByteBuffer takePeeked() {
        ByteBuffer bytes = peeked == null || peeked.position() == 0 ? null : peeked.flip();
        peeked = null;
        return bytes;
    }

    private void relayFailed(SocketChannel upstream, ByteBuffer earlyData, String outcome) {
        ChannelClose.quietly(upstream);
        loop.buffers().release(earlyData);
        disposeProtection();
        ChannelClose.withReset(client);
        finish(0, 0, outcome);
    }

    private void startRelay(SocketChannel upstream, ByteBuffer toUpstream, ByteBuffer earlyData) {
        if (isOver()) {
            ChannelClose.quietly(upstream);
            loop.buffers().release(earlyData);
            disposeProtection();
            return;
        }
        state = SessionState.RELAY;
        try {
            // The client's bytes go first: the rewritten request of an http-relay hop, or what the name recovery
            // read, unaltered.
            ByteBuffer fromClient = toUpstream != null ? toUpstream : takePeeked();
            Relay.Protection taken = protection;
            relay = taken == null
                    ? Relay.start(loop, client, upstream, fromClient, earlyData, context.idleTimeout(),
                            result -> finish(result.bytesUp(), result.bytesDown(), result.outcome()))
                    : Relay.startProtected(loop, client, upstream, taken, fromClient, earlyData,
                            context.idleTimeout(),
                            result -> finish(result.bytesUp(), result.bytesDown(), result.outcome()));
            protection = null;
        } catch (RuntimeException e) {
            disposeProtection();
            Logger.error(e, "session {}: cannot start the relay", id);
            ChannelClose.quietly(upstream);
            ChannelClose.withReset(client);
            finish(0, 0, "internal error: " + e);
        }
    }

    private void dialFailed(ProxyChain failedChain, DialException failure) {
        failures.add(failure);
        switch (failure.blame()) {
            case CHAIN -> context.listener().selector().reportFailure(failedChain, failure.getMessage());
            case DESTINATION -> context.listener().selector().reportWorking(failedChain);
            case LOCAL -> { } // nothing was learned about the chain
        }
        // Another chain is tried even after a destination refusal: a proxy that lost its own uplink answers
        // "unreachable" too. Not after a local failure: the next chain would need a socket just the same.
        if (!isOver() && failure.blame() != DialException.Blame.LOCAL && untried.hasNext()) {
            // The end line repeats every reason, so only this one is logged now.
            Logger.warn("session {}: {}; trying the next chain", id, failure.getMessage());
            dialNextChain();
            return;
        }
        FailureReason reason = reasonFor(failures);
        context.counters().countFailure(reason);
        String reasons = failures.stream().map(DialException::getMessage).collect(Collectors.joining("; "));
        String outcome = switch (reason) {
            case DESTINATION -> "destination refused: ";
            case LOCAL -> "local failure: ";
            default -> "dial failed: ";
        } + reasons;
        if (context.listener().config().onProxyFail() == OnProxyFail.HTTP_ERROR
                && destination.port() == OnProxyFail.HTTP_PORT) {
            answerBadGateway(outcome);
            return;
        }
        ChannelClose.withReset(client);
        finish(0, 0, outcome);
    }

    /**
     * {@code on-proxy-fail = "http-error"}: a 502 page instead of a reset. What the client already sent is read and
     * dropped after the answer (closing with unread bytes would turn the close into a reset), then the connection
     * is closed cleanly.
     */
    private void answerBadGateway(String outcome) {
        ByteBuffer page = HttpErrorPage.badGateway(destination);
        Exchange.start(loop, client, new Exchange.Machine(in -> in.position(in.limit()), () -> page, () -> true),
                null, context.idleTimeout(), "502 page to the client", new Exchange.Callback() {
                    @Override
                    public void finished(ByteBuffer leftover) {
                        loop.buffers().release(leftover);
                        try {
                            client.shutdownOutput();
                            ByteBuffer discard = ByteBuffer.allocate(4096);
                            while (client.read(discard) > 0) {
                                discard.clear();
                            }
                        } catch (IOException e) {
                            // The page was written; whatever the client does now changes nothing.
                        }
                        ChannelClose.quietly(client);
                        finish(0, page.position(), outcome + " (answered HTTP 502)");
                    }

                    @Override
                    public void failed(IOException cause) {
                        ChannelClose.withReset(client);
                        finish(0, 0, outcome + " (HTTP 502 not delivered: " + cause.getMessage() + ")");
                    }
                });
    }

    /** Local if the last attempt could not get a socket; destination if every chain blamed it; else dial. */
    private static FailureReason reasonFor(List<DialException> failures) {
        if (failures.get(failures.size() - 1).blame() == DialException.Blame.LOCAL) {
            return FailureReason.LOCAL;
        }
        return failures.stream().allMatch(f -> f.blame() == DialException.Blame.DESTINATION)
                ? FailureReason.DESTINATION : FailureReason.DIAL;
    }

    /** Marks the socket for the firewall; the loop guard records it once connect() has chosen its port. */
    private void prepareUpstream(SocketChannel upstream) throws IOException {
        context.upstreamSetup().apply(upstream);
        keepalive(upstream);
    }

    /** {@code [timeouts] keepalive-*}: TCP keepalive with our idle time, interval and count, when configured. */
    private void keepalive(SocketChannel channel) throws IOException {
        Optional<KeepaliveConfig> keepalive = context.config().timeouts().keepalive();
        if (keepalive.isPresent()) {
            KeepaliveConfig k = keepalive.get();
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            channel.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, (int) k.idle().getSeconds());
            channel.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, (int) k.interval().getSeconds());
            channel.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, k.count());
        }
    }

    private void refuse(FailureReason reason, RefusalKind kind, String why) {
        context.counters().countFailure(reason);
        refuse(kind, why);
    }

    private void finish(long up, long down, String outcome) {
        if (isOver()) {
            return;
        }
        context.counters().countTransferred(up, down);
        ProxyChain via = chain;
        end(destination, via == null ? "-" : via.toString(), up, down, outcome);
    }

    @Override
    protected void failedInternally(String outcome) {
        finish(0, 0, outcome);
    }

    @Override
    protected void ended() {
        for (LoopGuard.OwnSocket own : upstreamSockets) {
            context.loopGuard().ownSocketClosed(own);
        }
        context.live().remove(id);
    }

    /** Closes the session from another thread (shutdown after the grace period). */
    void abort(String reason) {
        loop.execute(() -> {
            Relay live = relay;
            if (live != null) {
                live.abort(reason);
            } else if (!isOver()) {
                ChannelClose.withReset(client);
                finish(0, 0, reason);
            }
        });
    }

    /**
     * {@code recover-name = "sni-host"}: reads the client's first bytes (at most {@link ServerNameSniffer#MAX_BYTES},
     * for at most {@link ListenerConfig#RECOVER_NAME_WAIT}) and dials the TLS SNI or HTTP Host name found there
     * instead of the address; without one, or when the client waits for the server to speak first, the address.
     */
    private final class NamePeek implements IoHandler {
        private SelectionKey key;
        private Timer timer;
        private boolean done;

        void start() {
            peeked = ByteBuffer.allocate(ServerNameSniffer.MAX_BYTES);
            try {
                key = loop.register(client, SelectionKey.OP_READ, this);
            } catch (IOException e) {
                done("cannot read the client: " + e.getMessage());
                return;
            }
            timer = loop.schedule(ListenerConfig.RECOVER_NAME_WAIT, () -> done("no name within "
                    + ListenerConfig.RECOVER_NAME_WAIT.toMillis() + "ms"));
        }

        @Override
        public void ready(SelectionKey selected) throws IOException {
            int n = client.read(peeked);
            ServerNameSniffer.Sniffed sniffed = ServerNameSniffer.sniff(peeked.duplicate().flip());
            if (sniffed instanceof ServerNameSniffer.Sniffed.Found found) {
                destination = Destination.name(found.host(), destination.port());
                done(found.protocol() + " " + found.host());
            } else if (sniffed instanceof ServerNameSniffer.Sniffed.NoName none) {
                done(none.why());
            } else if (n < 0 || !peeked.hasRemaining()) {
                done(n < 0 ? "the client closed before a name" : "no name in the first "
                        + peeked.position() + " bytes");
            }
        }

        @Override
        public void failed(Throwable cause) {
            done("reading the client failed: " + cause.getMessage());
        }

        private void done(String why) {
            if (done) {
                return;
            }
            done = true;
            if (timer != null) {
                timer.cancel();
            }
            if (key != null && key.isValid()) {
                key.interestOps(0);
            }
            if (isOver()) {
                return;
            }
            Logger.debug("session {}: name recovery: {}; dialing {}", id, why, destination);
            guarded(RedirectSession.this::chooseChains);
        }
    }

    SessionInfo info() {
        Relay live = relay;
        ProxyChain current = chain;
        return new SessionInfo(id, clientAddress(), destinationAddress, current == null ? "-" : current.toString(),
                state, live == null ? 0 : live.bytesUp(), live == null ? 0 : live.bytesDown(),
                age());
    }
}
