package dev.chainsocks.redirect;

import dev.chainsocks.chain.GssapiHopOptions;
import dev.chainsocks.chain.HopProtocol;
import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.Exchange;
import dev.chainsocks.engine.LocalSocketException;
import dev.chainsocks.engine.Relay;
import dev.chainsocks.engine.Resolver;
import dev.chainsocks.engine.Timer;
import dev.chainsocks.gssapi.Krb5Context;
import dev.chainsocks.gssapi.Krb5Executor;
import dev.chainsocks.gssapi.Krb5Login;
import dev.chainsocks.proto.BlockingStep;
import dev.chainsocks.proto.ClientHandshake;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.ProtectedClientHandshake;
import dev.chainsocks.proto.ProtectedStream;
import dev.chainsocks.proto.http.HttpConnectClientHandshake;
import dev.chainsocks.proto.http.HttpHeader;
import dev.chainsocks.proto.socks4.Socks4ClientHandshake;
import dev.chainsocks.proto.socks5.Socks5ClientHandshake;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.DurationSyntax;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.tinylog.Logger;

/**
 * Opens a destination through a chain on one TCP connection, as a fold over the hops: connect to hop 1; ask hop 1
 * for hop 2; ask hop 2 for hop 3; ...; ask the last hop for the destination. Each hop's handshake runs inside the
 * tunnel the previous hops built. A chain with no hops connects directly.
 *
 * <p>A last hop that relays requests ({@code http-relay}) has no handshake: the dial ends once the connection to
 * that proxy is open, and the session sends the client's rewritten request through it.
 *
 * <p>Names are sent to the hop as names (so the last proxy resolves them, not us) except to a plain SOCKS4 hop,
 * which can carry only IPv4: there the next hop's name is resolved here, off the loop.
 */
public final class ChainDialer {

    /** Time limits for one dial. */
    public record Timeouts(Duration connect, Duration handshake, Duration total) {
    }

    /** Called on the loop exactly once. */
    public interface Callback {
        /**
         * The tunnel to the destination is open. {@code earlyData} holds bytes the destination already sent
         * (in read mode, from the loop's pool, possibly empty); the callee owns channel and buffer.
         */
        void connected(SocketChannel channel, ByteBuffer earlyData, Duration handshakeLatency);

        /**
         * Whether the callee can relay through a hop with per-message protection ({@link #connectedProtected});
         * when not, a dial whose tunnel turned out protected fails instead, saying so.
         */
        default boolean acceptsProtection() {
            return false;
        }

        /**
         * The tunnel is open and one hop protects every message on it (SOCKS5 GSS-API integrity or
         * confidentiality): all bytes on {@code channel} must pass through {@code protection}, whose unread wire
         * bytes the callee now owns; {@code earlyPlaintext} is what the destination already sent, unprotected.
         * Called only when {@link #acceptsProtection()}.
         */
        default void connectedProtected(SocketChannel channel, Relay.Protection protection, ByteBuffer earlyPlaintext,
                Duration handshakeLatency) {
            throw new UnsupportedOperationException("this dial does not relay protected tunnels");
        }

        void failed(DialException failure);
    }

    private final EventLoop loop;
    private final Resolver resolver;
    private final Connector.SocketSetup socketSetup;
    private final List<HttpHeader> httpHeaders;

    public ChainDialer(EventLoop loop, Executor blocking, Connector.SocketSetup socketSetup) {
        this(loop, blocking, socketSetup, List.of());
    }

    /** With extra request headers for every HTTP CONNECT hop, such as {@code X-Forwarded-For} (disclose-src). */
    public ChainDialer(EventLoop loop, Executor blocking, Connector.SocketSetup socketSetup,
                       List<HttpHeader> httpHeaders) {
        this.loop = loop;
        this.resolver = new Resolver(loop, blocking);
        this.socketSetup = socketSetup;
        this.httpHeaders = List.copyOf(httpHeaders);
    }

    /** Loop thread only. */
    public void dial(ProxyChain chain, Destination target, Timeouts timeouts, Callback callback) {
        new Attempt(chain, target, timeouts, callback).begin();
    }

    /** The client handshake that asks {@code hop} for {@code next}. */
    static ClientHandshake handshakeFor(ProxyHop hop, Destination next) {
        return handshakeFor(hop, next, List.of());
    }

    /** As {@link #handshakeFor(ProxyHop, Destination)}, with extra headers for an HTTP CONNECT hop. */
    static ClientHandshake handshakeFor(ProxyHop hop, Destination next, List<HttpHeader> httpHeaders) {
        String user = hop.user().orElse(null);
        String password = hop.password().orElse(null);
        return switch (hop.protocol()) {
            case SOCKS4 -> new Socks4ClientHandshake(next, user == null ? "" : user);
            case SOCKS4A -> Socks4ClientHandshake.socks4a(next, user == null ? "" : user);
            case SOCKS5_GSSAPI -> {
                GssapiHopOptions options = hop.gssapi().orElseThrow();
                Krb5Login login = Krb5Login.shared(new Krb5Login.Source(options.principal(), options.keytab(),
                        options.credentialCache(), true));
                yield new Socks5ClientHandshake(next, Krb5Context.initiator(login,
                        hop.gssapiServicePrincipal().orElseThrow()), options.protection());
            }
            case SOCKS5, SOCKS5H -> user == null
                    ? new Socks5ClientHandshake(next)
                    : new Socks5ClientHandshake(next, user, password);
            case HTTP -> new HttpConnectClientHandshake(next, user, password, httpHeaders);
            case HTTP_RELAY -> throw new IllegalArgumentException("an http-relay hop has no handshake: it relays the"
                    + " client's own requests and can only be the last hop");
        };
    }

    private final class Attempt {
        final ProxyChain chain;
        final Destination target;
        final Timeouts timeouts;
        final Callback callback;
        final long startNanos = System.nanoTime();
        final long deadlineNanos;
        SocketChannel channel;
        Timer deadline;
        int currentHop;
        boolean over;
        /** Once a hop agreed per-message protection: it, and the plaintext the last handshake left unread. */
        ProtectedStream tunnel;
        /** The hop that protects {@link #tunnel}, for logs. */
        String tunnelPeer;

        Attempt(ProxyChain chain, Destination target, Timeouts timeouts, Callback callback) {
            this.chain = chain;
            this.target = target;
            this.timeouts = timeouts;
            this.callback = callback;
            this.deadlineNanos = startNanos + timeouts.total().toNanos();
        }

        ProxyHop hop(int index) {
            return index < chain.hops().size() ? chain.hops().get(index) : null;
        }

        /** What hop {@code index} is asked to connect to: the next hop, or the destination for the last. */
        Destination nextAfter(int index) {
            return index + 1 < chain.hops().size() ? chain.hops().get(index + 1).address() : target;
        }

        Duration remaining(Duration limit) {
            long left = deadlineNanos - System.nanoTime();
            return left <= 0 ? Duration.ZERO : limit.toNanos() < left ? limit : Duration.ofNanos(left);
        }

        void begin() {
            deadline = loop.schedule(timeouts.total(), () -> fail(currentHop, "dial deadline "
                    + DurationSyntax.format(timeouts.total()) + " passed", null));
            Destination first = chain.isDirect() ? target : chain.hops().get(0).address();
            resolver.resolve(first, address -> guarded(0, () -> connect(address)),
                    cause -> fail(0, "cannot resolve " + first, cause));
        }

        /**
         * Runs a step; a bug that throws fails this dial (closing what it opened) instead of leaving the client
         * waiting for an answer that will never come.
         */
        void guarded(int index, Runnable step) {
            try {
                step.run();
            } catch (RuntimeException e) {
                Logger.error(e, "chain {}: unexpected error at hop {}", chain.name(), index + 1);
                fail(index, "internal error: " + e, e);
            }
        }

        void connect(InetSocketAddress address) {
            if (over) {
                return;
            }
            Duration limit = remaining(timeouts.connect());
            if (limit.isZero()) {
                fail(0, "dial deadline passed before connecting", null);
                return;
            }
            Connector.connect(loop, address, limit, socketSetup, new Connector.Callback() {
                @Override
                public void connected(SocketChannel connected) {
                    if (over) {
                        ChannelClose.quietly(connected);
                        return;
                    }
                    channel = connected;
                    guarded(0, () -> {
                        if (chain.isDirect()) {
                            succeed(ByteBuffer.allocate(0));
                        } else {
                            handshake(0, null);
                        }
                    });
                }

                @Override
                public void failed(IOException cause) {
                    Destination first = chain.isDirect() ? target : chain.hops().get(0).address();
                    String resolved = first instanceof Destination.Name
                            ? " (resolved to " + AddressSyntax.literal(address.getAddress()) + ")" : "";
                    fail(0, "connect failed" + resolved + ": " + message(cause), cause);
                }
            });
        }

        void handshake(int index, ByteBuffer input) {
            currentHop = index;
            ProxyHop hop = hop(index);
            if (hop.protocol().relaysRequests() && index + 1 == chain.hops().size()) {
                // Reaching the relaying proxy is the whole dial: the session sends it the client's request.
                succeed(input == null ? ByteBuffer.allocate(0) : input);
                return;
            }
            Destination next = nextAfter(index);
            if (hop.protocol() == HopProtocol.SOCKS4 && !(next instanceof Destination.Ip)) {
                if (next instanceof Destination.Name name) {
                    resolver.resolve(name, address -> guarded(index, () -> {
                        if (over) {
                            release(input);
                        } else if (address.getAddress() instanceof Inet4Address) {
                            runHandshake(index, Destination.ip(address.getAddress(), address.getPort()), input);
                        } else {
                            release(input);
                            fail(index, "cannot carry " + name + ": it resolves to IPv6 only", null);
                        }
                    }), cause -> {
                        release(input);
                        fail(index, "cannot resolve " + name + " for a socks4 hop", cause);
                    });
                    return;
                }
            }
            runHandshake(index, next, input);
        }

        void runHandshake(int index, Destination next, ByteBuffer input) {
            if (over) {
                release(input);
                return;
            }
            ProxyHop hop = hop(index);
            ClientHandshake handshake;
            try {
                handshake = handshakeFor(hop, next, httpHeaders);
                if (tunnel != null) {
                    // RFC 1961 section 5: every hop after the protecting one talks inside its protected messages.
                    handshake = new ProtectedClientHandshake(handshake, tunnel.protection(), tunnel.plaintext());
                }
            } catch (IllegalArgumentException e) {
                release(input);
                fail(index, "cannot carry " + next + ": " + e.getMessage(), e);
                return;
            }
            Duration limit = remaining(timeouts.handshake());
            if (limit.isZero()) {
                release(input);
                fail(index, "dial deadline passed before asking for " + next, null);
                return;
            }
            ClientHandshake driven = handshake;
            Exchange[] exchange = new Exchange[1];
            exchange[0] = Exchange.start(loop, channel, new Exchange.Machine(in -> {
                driven.receive(in);
                offloadBlockingStep(index, driven, exchange);
            }, driven::outbound, () -> driven.outcome() != null), input, limit, hop + " CONNECT " + next,
                    new Exchange.Callback() {
                        @Override
                        public void finished(ByteBuffer leftover) {
                            if (over) {
                                release(leftover);
                                return;
                            }
                            guarded(index, () -> {
                                HandshakeOutcome outcome = driven.outcome();
                                if (outcome instanceof HandshakeOutcome.Granted
                                        && !takeProtection(index, driven)) {
                                    release(leftover);
                                } else if (outcome instanceof HandshakeOutcome.Granted) {
                                    if (index + 1 < chain.hops().size()) {
                                        handshake(index + 1, leftover);
                                    } else {
                                        succeed(leftover);
                                    }
                                } else {
                                    release(leftover);
                                    boolean lastHop = index + 1 == chain.hops().size();
                                    fail(index, "CONNECT " + next + ": " + outcome, null,
                                            lastHop && refusesDestination(outcome) ? DialException.Blame.DESTINATION
                                                    : DialException.Blame.CHAIN);
                                }
                            });
                        }

                        @Override
                        public void failed(IOException cause) {
                            fail(index, (cause instanceof SocketTimeoutException ? "timed out" : "failed")
                                    + " asking for " + next + ": " + message(cause), cause);
                        }
                    });
        }

        /**
         * Runs a step the handshake waits for (a GSS-API call, which may ask a KDC) on the GSS-API pool, then
         * resumes the exchange on this loop; the handshake deadline keeps running meanwhile.
         */
        void offloadBlockingStep(int index, ClientHandshake handshake, Exchange[] exchange) {
            BlockingStep<?> step = handshake.takeBlockingStep();
            if (step == null || over) {
                return;
            }
            try {
                Krb5Executor.shared().run(step, loop, () -> guarded(index, () -> {
                    exchange[0].resume();
                    offloadBlockingStep(index, handshake, exchange);
                }));
            } catch (RejectedExecutionException e) {
                fail(index, "too many GSS-API steps waiting", e);
            }
        }

        /**
         * After hop {@code index} granted: takes up the protection it agreed, or carries on the one around it with
         * what it left unread. False (the dial failed) when a hop inside a protected tunnel agreed a protection of
         * its own, or the caller cannot relay a protected tunnel.
         */
        boolean takeProtection(int index, ClientHandshake handshake) {
            if (handshake instanceof ProtectedClientHandshake inside) {
                ProtectedStream second = inside.innerProtection();
                if (second != null) {
                    second.protection().dispose();
                    fail(index, "the proxy agreed GSS-API per-message protection (" + second.protection().name()
                            + "), but " + tunnelPeer + " already protects this chain; chainsocks relays through one"
                            + " protected hop per chain", null);
                    return false;
                }
                tunnel = inside.protectedStream();
                return true;
            }
            ProtectedStream agreed = handshake.protectedStream();
            if (agreed == null) {
                return true;
            }
            tunnel = agreed;
            tunnelPeer = "hop " + (index + 1) + "/" + chain.hops().size() + " " + hop(index);
            if (!callback.acceptsProtection()) {
                fail(index, "the proxy agreed GSS-API per-message protection (" + agreed.protection().name()
                        + "), which this use of the chain cannot relay; use protection=none on this hop", null,
                        DialException.Blame.LOCAL);
                return false;
            }
            return true;
        }

        void succeed(ByteBuffer earlyData) {
            over = true;
            deadline.cancel();
            Duration latency = Duration.ofNanos(System.nanoTime() - startNanos);
            if (tunnel == null) {
                callback.connected(channel, earlyData, latency);
                return;
            }
            ProtectedStream protectedStream = tunnel;
            tunnel = null;
            callback.connectedProtected(channel, new Relay.Protection(protectedStream.protection(),
                    Relay.ProtectedSide.UPSTREAM, tunnelPeer, earlyData), protectedStream.plaintext(), latency);
        }

        void fail(int index, String what, Throwable cause) {
            fail(index, what, cause, cause instanceof LocalSocketException ? DialException.Blame.LOCAL
                    : DialException.Blame.CHAIN);
        }

        void fail(int index, String what, Throwable cause, DialException.Blame blame) {
            if (over) {
                return;
            }
            over = true;
            if (deadline != null) {
                deadline.cancel();
            }
            ChannelClose.quietly(channel);
            if (tunnel != null) {
                tunnel.protection().dispose();
                tunnel = null;
            }
            ProxyHop hop = hop(index);
            callback.failed(new DialException(chain, hop == null ? 0 : index + 1, hop,
                    hop == null ? target : nextAfter(index), what, cause, blame));
        }

        void release(ByteBuffer buffer) {
            if (buffer != null) {
                loop.buffers().release(buffer);
            }
        }
    }

    /** A well-formed answer that blames the destination, not the proxy: {@link DialException.Blame#DESTINATION}. */
    private static boolean refusesDestination(HandshakeOutcome outcome) {
        return outcome instanceof HandshakeOutcome.Refused refused && switch (refused.status()) {
            case CONNECTION_REFUSED, HOST_UNREACHABLE, NETWORK_UNREACHABLE, TTL_EXPIRED -> true;
            default -> false;
        };
    }

    private static String message(Throwable cause) {
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
