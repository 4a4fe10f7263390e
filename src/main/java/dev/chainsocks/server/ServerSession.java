package dev.chainsocks.server;

import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.Exchange;
import dev.chainsocks.engine.Relay;
import dev.chainsocks.engine.Resolver;
import dev.chainsocks.gssapi.Krb5Executor;
import dev.chainsocks.log.RefusalKind;
import dev.chainsocks.proto.BlockingStep;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.ProtectedStream;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.ServerHandshake;
import dev.chainsocks.proto.ServerOutcome;
import dev.chainsocks.proto.http.HttpProxyServerHandshake;
import dev.chainsocks.proto.ident.IdentClient;
import dev.chainsocks.proto.ident.IdentQuery;
import dev.chainsocks.proto.ident.IdentVerdict;
import dev.chainsocks.proto.socks4.Socks4ServerHandshake;
import dev.chainsocks.session.ClientSession;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.DurationSyntax;
import java.io.EOFException;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One client of the bundled server, from its first byte to the end of its relay. Lives on one event loop.
 *
 * <p>The first byte picks the protocol (0x04 SOCKS4/4a, 0x05 SOCKS5, a letter HTTP); the matching server
 * handshake parses the request; then the session connects, binds or associates, answers with a reply that tells
 * the truth about what happened, and relays. It never connects to the server's own listeners: a client could
 * otherwise nest tunnels through this server inside each other.
 */
final class ServerSession extends ClientSession {

    private static final Destination NO_ADDRESS = Destination.ip(InetAddress.getLoopbackAddress(), 0);
    private static final Destination ANY_IPV4 = zeroAddress();

    private final SocksServer server;
    private ServerHandshake handshake;
    private String unknownProtocol;
    private ServerOutcome.Request request;
    private String via = "direct";
    private Relay relay;
    private UdpAssociation association;
    private SocketChannel identChannel;
    private Exchange handshakeExchange;
    /** Agreed with a GSS-API client until its relay takes it over; disposed if the session ends before. */
    private ProtectedStream protection;

    ServerSession(SocksServer server, EventLoop loop, SocketChannel client, Acceptor acceptor) {
        super(loop, client, acceptor);
        this.server = server;
    }

    private static Destination zeroAddress() {
        try {
            return Destination.ip(InetAddress.getByAddress(new byte[4]), 0);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    void start() {
        try {
            readClientAddress();
        } catch (IOException e) {
            end("client gone before the handshake: " + e.getMessage());
            return;
        }
        Exchange.Machine machine = new Exchange.Machine(this::receiveHandshake, this::handshakeOutbound,
                this::handshakeFinished);
        handshakeExchange = Exchange.start(loop, client, machine, null, server.config().handshakeTimeout(),
                "handshake with " + AddressSyntax.format(clientAddress()), new Exchange.Callback() {
                    @Override
                    public void finished(ByteBuffer leftover) {
                        guarded(() -> onHandshake(leftover));
                    }

                    @Override
                    public void failed(IOException cause) {
                        end(cause instanceof EOFException ? "client closed during the handshake"
                                : cause instanceof SocketTimeoutException ? "handshake timeout"
                                : "handshake failed: " + cause.getMessage());
                    }
                });
    }

    private void receiveHandshake(ByteBuffer in) {
        if (handshake == null) {
            int first = in.get(in.position()) & 0xFF;
            handshake = ProtocolSniffer.handshakeFor(first, server.config().authenticator(),
                    server.gssapiContexts(), server.gssapiMinimumProtection()).orElse(null);
            if (handshake == null) {
                unknownProtocol = String.format("not SOCKS or HTTP: first byte 0x%02x", first);
                return;
            }
        }
        handshake.receive(in);
        offloadBlockingStep();
    }

    /**
     * Runs a step the handshake waits for (a GSS-API call: keytab, replay cache) on the GSS-API pool, then resumes
     * the handshake exchange on this loop; the handshake deadline keeps running meanwhile.
     */
    private void offloadBlockingStep() {
        BlockingStep<?> step = handshake.takeBlockingStep();
        if (step == null || isOver()) {
            return;
        }
        try {
            Krb5Executor.shared().run(step, loop, () -> guarded(() -> {
                handshakeExchange.resume();
                offloadBlockingStep();
            }));
        } catch (RejectedExecutionException e) {
            end("handshake failed: too many GSS-API steps waiting");
        }
    }

    private ByteBuffer handshakeOutbound() {
        return handshake == null ? ByteBuffer.allocate(0) : handshake.outbound();
    }

    private boolean handshakeFinished() {
        return unknownProtocol != null || (handshake != null && handshake.outcome() != null);
    }

    private void onHandshake(ByteBuffer leftover) {
        if (unknownProtocol != null) {
            release(leftover);
            end(unknownProtocol);
            return;
        }
        ServerOutcome outcome = handshake.outcome();
        if (outcome instanceof ServerOutcome.Rejected rejected) {
            release(leftover);
            end("rejected: " + rejected.reason());
            return;
        }
        if (outcome instanceof ServerOutcome.NeedsIdentConfirmation pending) {
            if (!server.config().admits(clientAddress().getAddress())) {
                // Not admitted at all: no ident query goes to the client's host on its behalf.
                release(leftover);
                ((Socks4ServerHandshake) handshake).refusePending("client "
                        + AddressSyntax.literal(clientAddress().getAddress()) + " is not in --allow-from");
                String why = "rejected: " + ((ServerOutcome.Rejected) handshake.outcome()).reason();
                flush(client, handshake.outbound(), null, ignored -> end(why), ignored -> end(why));
                return;
            }
            askIdentd(pending, leftover);
            return;
        }
        ProtectedStream agreed = handshake.protectedStream();
        if (agreed != null) {
            protection = agreed;
            onRequest((ServerOutcome.Request) outcome, " protection=" + agreed.protection().name(), leftover);
            return;
        }
        onRequest((ServerOutcome.Request) outcome, "", leftover);
    }

    /** {@code note} joins the start line's via field (how a SOCKS4 user was confirmed), or is empty. */
    private void onRequest(ServerOutcome.Request parsed, String note, ByteBuffer leftover) {
        request = parsed;
        via = request.protocol() + " " + request.command() + (request.user() == null ? "" : " user=" + request.user()) + note;
        started(request.destination(), via);
        if (!server.config().admits(clientAddress().getAddress())) {
            replyFailure(new FailureReplies.DeniedException("client " + AddressSyntax.literal(clientAddress().getAddress())
                    + " is not in --allow-from"), leftover);
            return;
        }
        switch (request.command()) {
            case CONNECT, HTTP_FORWARD -> new Resolver(loop, server.group().blocking()).resolve(request.destination(),
                    target -> connect(target, leftover), failure -> replyFailure(failure, leftover));
            case BIND -> bind(leftover);
            case UDP_ASSOCIATE -> associate(leftover);
        }
    }

    // --- identd (RFC 1413): does the client host confirm the SOCKS4 user id? ---

    /**
     * Asks the client host's identd who owns this connection: from the address the client reached us on, to the
     * client's address at the identd port, with one deadline for connecting and answering. Non-blocking, on this
     * session's loop; the handshake turns the verdict into the SOCKS4 answer.
     */
    private void askIdentd(ServerOutcome.NeedsIdentConfirmation pending, ByteBuffer leftover) {
        IdentdCheck check = server.config().identd();
        InetSocketAddress local;
        try {
            local = (InetSocketAddress) client.getLocalAddress();
        } catch (IOException e) {
            release(leftover);
            end("client gone before identd was asked: " + e.getMessage());
            return;
        }
        InetSocketAddress identd = new InetSocketAddress(clientAddress().getAddress(), check.port());
        IdentClient ident = new IdentClient(new IdentQuery(clientAddress().getPort(), local.getPort()));
        String where = "identd " + AddressSyntax.format(identd);
        long deadline = System.nanoTime() + check.timeout().toNanos();
        Connector.connect(loop, identd, check.timeout(),
                channel -> channel.bind(new InetSocketAddress(local.getAddress(), 0)), new Connector.Callback() {
                    @Override
                    public void connected(SocketChannel channel) {
                        guarded(() -> queryIdentd(channel, ident, where, deadline, pending, leftover));
                    }

                    @Override
                    public void failed(IOException cause) {
                        guarded(() -> identDecided(pending, new IdentVerdict.Unreachable(where + ": "
                                + (cause instanceof SocketTimeoutException ? "no connection within "
                                + DurationSyntax.format(check.timeout()) : cause.getMessage())), leftover));
                    }
                });
    }

    private void queryIdentd(SocketChannel channel, IdentClient ident, String where, long deadline,
            ServerOutcome.NeedsIdentConfirmation pending, ByteBuffer leftover) {
        identChannel = channel;
        Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
        Exchange.start(loop, channel, new Exchange.Machine(ident::receive, ident::outbound, ident::finished), null,
                left, where, new Exchange.Callback() {
                    @Override
                    public void finished(ByteBuffer rest) {
                        closeIdentChannel();
                        guarded(() -> identDecided(pending, IdentVerdict.judge(pending.request().user(),
                                ident.outcome()), leftover));
                    }

                    @Override
                    public void failed(IOException cause) {
                        closeIdentChannel();
                        guarded(() -> identDecided(pending, new IdentVerdict.Unreachable(
                                cause instanceof EOFException ? where + " closed the connection without an answer"
                                        : cause.getMessage()), leftover));
                    }
                });
    }

    private void identDecided(ServerOutcome.NeedsIdentConfirmation pending, IdentVerdict verdict,
            ByteBuffer leftover) {
        if (isOver()) {
            release(leftover);
            return;
        }
        ((Socks4ServerHandshake) handshake).resolveIdent(verdict);
        if (handshake.outcome() instanceof ServerOutcome.Rejected rejected) {
            release(leftover);
            String outcome = "rejected: " + rejected.reason();
            flush(client, handshake.outbound(), null, ignored -> end(outcome), ignored -> end(outcome));
            return;
        }
        onRequest(pending.request(), " identd=confirmed", leftover);
    }

    private void closeIdentChannel() {
        ChannelClose.quietly(identChannel);
        identChannel = null;
    }

    private void connect(InetSocketAddress target, ByteBuffer leftover) {
        if (isOver()) {
            release(leftover);
            return;
        }
        InetSocketAddress self = server.ownListenerReachedBy(target).orElse(null);
        if (self != null) {
            replyFailure(new FailureReplies.DeniedException("destination " + AddressSyntax.format(target)
                    + " is this server's own listener " + AddressSyntax.format(self)
                    + ": a proxy tunnel into itself is refused"), leftover);
            return;
        }
        Connector.connect(loop, target, server.config().connectTimeout(), Connector.SocketSetup.NONE,
                new Connector.Callback() {
                    @Override
                    public void connected(SocketChannel upstream) {
                        guarded(() -> onConnected(upstream, leftover));
                    }

                    @Override
                    public void failed(IOException cause) {
                        guarded(() -> replyFailure(cause, leftover));
                    }
                });
    }

    private void onConnected(SocketChannel upstream, ByteBuffer leftover) {
        if (isOver()) {
            release(leftover);
            ChannelClose.quietly(upstream);
            return;
        }
        Destination bound;
        try {
            bound = Destination.of((InetSocketAddress) upstream.getLocalAddress());
        } catch (IOException e) {
            bound = NO_ADDRESS;
        }
        handshake.reply(ReplyStatus.SUCCEEDED, bound);
        if (request.command() == ServerOutcome.Command.HTTP_FORWARD) {
            ByteBuffer head = ((HttpProxyServerHandshake) handshake).forwardHead();
            flush(upstream, head, null, ignored -> flushReplyThenRelay(upstream, leftover),
                    cause -> {
                        ChannelClose.quietly(upstream);
                        release(leftover);
                        end("origin failed: " + cause.getMessage());
                    });
        } else {
            flushReplyThenRelay(upstream, leftover);
        }
    }

    private void flushReplyThenRelay(SocketChannel upstream, ByteBuffer leftover) {
        flush(client, handshake.outbound(), leftover, rest -> startRelay(upstream, rest, null), cause -> {
            ChannelClose.quietly(upstream);
            end("client gone before the relay: " + cause.getMessage());
        });
    }

    private void startRelay(SocketChannel upstream, ByteBuffer toUpstream, ByteBuffer toClient) {
        if (protection == null) {
            relay = Relay.start(loop, client, upstream, toUpstream, toClient, server.config().idleTimeout(),
                    result -> finish(result.bytesUp(), result.bytesDown(), result.outcome()));
            return;
        }
        // With GSS-API protection the client's bytes are protected messages: toUpstream is what is left of them
        // (wire), and the plaintext the handshake already unprotected past the request goes first.
        ProtectedStream taken = protection;
        protection = null;
        ByteBuffer wire = toUpstream == null ? ByteBuffer.allocate(0) : toUpstream;
        relay = Relay.startProtected(loop, client, upstream, new Relay.Protection(taken.protection(),
                        Relay.ProtectedSide.CLIENT, "client " + AddressSyntax.format(clientAddress()), wire),
                taken.plaintext(), toClient, server.config().idleTimeout(),
                result -> finish(result.bytesUp(), result.bytesDown(), result.outcome()));
    }

    /**
     * Sends {@code bytes} on {@code channel} (within the handshake deadline), then hands on the {@code carry}
     * buffer (which the exchange keeps untouched) to {@code then}.
     */
    private void flush(SocketChannel channel, ByteBuffer bytes, ByteBuffer carry, Consumer<ByteBuffer> then,
            Consumer<IOException> otherwise) {
        ByteBuffer input = carry != null ? carry : ByteBuffer.allocate(0);
        Exchange.start(loop, channel, new Exchange.Machine(in -> { }, () -> bytes, () -> true), input,
                server.config().handshakeTimeout(), "reply to " + AddressSyntax.format(clientAddress()),
                new Exchange.Callback() {
                    @Override
                    public void finished(ByteBuffer rest) {
                        if (carry == null) {
                            release(rest);
                            then.accept(null);
                        } else {
                            then.accept(rest);
                        }
                    }

                    @Override
                    public void failed(IOException cause) {
                        otherwise.accept(cause);
                    }
                });
    }

    private void replyFailure(IOException cause, ByteBuffer leftover) {
        release(leftover);
        if (isOver()) {
            return;
        }
        ReplyStatus status = FailureReplies.forFailure(cause);
        handshake.reply(status, ANY_IPV4);
        String outcome = "failed " + status + ": " + cause.getMessage();
        flush(client, handshake.outbound(), null, ignored -> end(outcome), ignored -> end(outcome));
    }

    // --- BIND: the client asks us to accept one connection for it (FTP-style active mode) ---

    private void bind(ByteBuffer leftover) {
        ServerSocketChannel listener = null;
        boolean handedOff = false;
        try {
            InetSocketAddress local = (InetSocketAddress) client.getLocalAddress();
            InetAddress localAddress = local.getAddress();
            listener = ServerSocketChannel.open(localAddress instanceof Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            listener.bind(new InetSocketAddress(localAddress, 0), 1);
            listener.configureBlocking(false);
            handshake.reply(ReplyStatus.SUCCEEDED, Destination.of((InetSocketAddress) listener.getLocalAddress()));
            ServerSocketChannel bound = listener;
            flush(client, handshake.outbound(), leftover, rest -> awaitPeer(bound, rest), cause -> {
                ChannelClose.quietly(bound);
                end("client gone after the first BIND reply: " + cause.getMessage());
            });
            handedOff = true;
        } catch (IOException e) {
            replyFailure(e, leftover);
            handedOff = true;
        } finally {
            if (!handedOff) {
                ChannelClose.quietly(listener);
                release(leftover);
            }
        }
    }

    private void awaitPeer(ServerSocketChannel listener, ByteBuffer leftover) {
        Optional<InetAddress> expected = request.destination() instanceof Destination.Ip ip
                && !ip.address().isAnyLocalAddress() ? Optional.of(ip.address()) : Optional.empty();
        BindWait.start(loop, client, listener, leftover, expected, server.config().connectTimeout().multipliedBy(6),
                new BindWait.Outcome() {
                    @Override
                    public void peerArrived(SocketChannel peer, InetSocketAddress address, ByteBuffer clientBytes) {
                        guarded(() -> {
                            handshake.reply(ReplyStatus.SUCCEEDED, Destination.of(address));
                            flush(client, handshake.outbound(), clientBytes,
                                    carried -> startRelay(peer, carried, null), cause -> {
                                        ChannelClose.quietly(peer);
                                        end("client gone before the BIND relay: " + cause.getMessage());
                                    });
                        });
                    }

                    @Override
                    public void peerRefused(InetSocketAddress peer, ByteBuffer clientBytes) {
                        release(clientBytes);
                        replyThenEnd(ReplyStatus.NOT_ALLOWED_BY_RULESET, "BIND peer " + AddressSyntax.format(peer)
                                + " is not the expected " + AddressSyntax.literal(expected.orElseThrow()));
                    }

                    @Override
                    public void timedOut(ByteBuffer clientBytes) {
                        release(clientBytes);
                        replyThenEnd(ReplyStatus.TTL_EXPIRED, "no BIND peer arrived");
                    }

                    @Override
                    public void abandoned(String reason, ByteBuffer clientBytes) {
                        release(clientBytes);
                        end(reason);
                    }
                });
    }

    /** Sends the second BIND reply with {@code status}, then ends with {@code outcome} whether or not it arrived. */
    private void replyThenEnd(ReplyStatus status, String outcome) {
        handshake.reply(status, ANY_IPV4);
        flush(client, handshake.outbound(), null, ignored -> end(outcome), ignored -> end(outcome));
    }

    // --- UDP ASSOCIATE ---

    private void associate(ByteBuffer leftover) {
        release(leftover);
        try {
            InetSocketAddress local = (InetSocketAddress) client.getLocalAddress();
            association = UdpAssociation.open(this, loop, server, local.getAddress(),
                    clientAddress().getAddress(), request.destination());
            handshake.reply(ReplyStatus.SUCCEEDED, Destination.of(association.clientFacingAddress()));
        } catch (IOException e) {
            replyFailure(e, null);
            return;
        }
        flush(client, handshake.outbound(), null, ignored -> association.run(client),
                cause -> {
                    association.close();
                    end("client gone before the UDP association started: " + cause.getMessage());
                });
    }

    void associationEnded(long bytesUp, long bytesDown, String outcome) {
        finish(bytesUp, bytesDown, outcome);
    }

    // --- endings ---

    private void release(ByteBuffer buffer) {
        if (buffer != null) {
            loop.buffers().release(buffer);
        }
    }

    private void finish(long bytesUp, long bytesDown, String outcome) {
        end(request == null ? null : request.destination(), via, bytesUp, bytesDown, outcome);
    }

    /** Ends with a refused line before a request, or an end line after it. */
    private void end(String outcome) {
        if (request == null) {
            refuse(RefusalKind.HANDSHAKE, outcome);
        } else {
            finish(relay == null ? 0 : relay.bytesUp(), relay == null ? 0 : relay.bytesDown(), outcome);
        }
    }

    @Override
    protected void failedInternally(String outcome) {
        end(outcome);
    }

    @Override
    protected void ended() {
        closeIdentChannel();
        if (protection != null) {
            protection.protection().dispose();
            protection = null;
        }
        server.sessionEnded(this);
    }

    /** Ends the session from another thread (server shutdown). */
    void abort() {
        loop.execute(() -> {
            if (relay != null) {
                relay.abort("server shutting down");
            } else if (association != null) {
                association.close();
            } else {
                end("server shutting down");
            }
        });
    }
}
