package dev.chainsocks.dns;

import dev.chainsocks.config.DnsConfig;
import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.ConnectionLimit;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.engine.EventLoopGroup;
import dev.chainsocks.engine.IoHandler;
import dev.chainsocks.engine.RelayMode;
import dev.chainsocks.engine.Timer;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.dns.DnsCodec;
import dev.chainsocks.proto.dns.DnsMessage;
import dev.chainsocks.proto.dns.DnsName;
import dev.chainsocks.proto.dns.DnsQuestion;
import dev.chainsocks.proto.dns.DnsRcode;
import dev.chainsocks.proto.dns.DnsRecord;
import dev.chainsocks.proto.dns.DnsType;
import dev.chainsocks.syntax.AddressSyntax;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.tinylog.Logger;

/**
 * chainsocks' DNS server ({@code [dns]}): UDP and TCP on each listen address, on an event loop of its own.
 *
 * <p>A query for a name the rules proxy is answered at once from the {@link FakeIpMap}: A and AAAA with a pool
 * address, every other type with no records (so nothing about the name is asked anywhere). A query for a direct
 * name is forwarded to the upstream resolver, over UDP from a socket of its own, or as DNS over TCP through a
 * chain ({@link Tunnel}) so it leaves this host only inside the chain; the answer goes back unchanged. Nothing
 * here blocks: every socket is non-blocking on the loop, every forward has a deadline.
 */
public final class DnsServer implements AutoCloseable {

    /** Opens a TCP stream to the upstream resolver through the configured chain. */
    public interface Tunnel {
        /** Loop thread; {@code opened} is called on that loop exactly once. */
        void open(EventLoop loop, InetSocketAddress upstream, Duration timeout, Opened opened);

        /** The outcome of {@link #open}. */
        interface Opened {
            /**
             * The channel is connected to the resolver and registered on the loop; it belongs to the callee, as do
             * the bytes that already came from the resolver ({@code earlyData}, usually none).
             */
            void opened(SocketChannel channel, byte[] earlyData);

            void failed(String reason);
        }
    }

    /** Applied to each UDP socket that forwards a query (SO_MARK, so firewall rules can exempt it). */
    public interface UdpSetup {
        UdpSetup NONE = channel -> { };

        void apply(DatagramChannel channel) throws IOException;
    }

    /** Counters for {@code status} and metrics. */
    public record Stats(long queries, long fakeAnswers, long forwarded, long failed) {
    }

    /** The parts a reload may change without rebinding. */
    private record Settings(DnsConfig config, Optional<Tunnel> tunnel, UdpSetup udpSetup) {
    }

    /** Forwarded queries in flight at once, over all clients; more are answered SERVFAIL. */
    static final int MAX_IN_FLIGHT = 1024;
    /** TCP clients at once. */
    static final int MAX_TCP_CLIENTS = 256;
    /** A TCP client that sends nothing for this long is closed (RFC 7766 suggests seconds). */
    static final Duration TCP_IDLE = Duration.ofSeconds(10);

    private final EventLoopGroup group;
    private final EventLoop loop;
    private final FakeIpMap map;
    private final List<DatagramChannel> udp = new ArrayList<>();
    private final List<Acceptor> tcp = new ArrayList<>();
    private final List<InetSocketAddress> bound = new ArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LongAdder queries = new LongAdder();
    private final LongAdder fakeAnswers = new LongAdder();
    private final LongAdder forwarded = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private volatile Settings settings;

    private DnsServer(Settings settings, FakeIpMap map) {
        this.settings = settings;
        this.map = map;
        this.group = new EventLoopGroup("dns", 1, RelayMode.COPY, 1L << 20);
        this.loop = group.loops().get(0);
    }

    /**
     * Binds UDP and TCP on every listen address and starts answering.
     *
     * @param tunnel how to reach the upstream through {@code upstream-via-chain}; required when it is set
     * @throws IOException naming the address that could not be bound; nothing stays open then
     */
    public static DnsServer start(DnsConfig config, FakeIpMap map, Optional<Tunnel> tunnel, UdpSetup udpSetup)
            throws IOException {
        if (config.upstreamViaChain().isPresent() && tunnel.isEmpty()) {
            throw new IllegalArgumentException("upstream-via-chain needs a tunnel");
        }
        DnsServer server = new DnsServer(new Settings(config, tunnel, udpSetup), map);
        boolean success = false;
        try {
            for (InetSocketAddress address : config.listen()) {
                server.bind(address);
            }
            success = true;
            Logger.info("DNS on {} (UDP and TCP): {} names get fake addresses from {} and {}{}",
                    server.bound.stream().map(AddressSyntax::format).toList(), config.defaultAction(),
                    config.fakeIpv4(), config.fakeIpv6(), config.upstream().map(u -> ", others go to "
                            + AddressSyntax.format(u) + config.upstreamViaChain().map(c -> " through chain " + c)
                            .orElse(" over UDP")).orElse(", others are refused (no upstream)"));
            return server;
        } finally {
            if (!success) {
                server.close();
            }
        }
    }

    /** Whether a new {@code [dns]} table can be applied to this server without rebinding. */
    public boolean sameSockets(DnsConfig next) {
        return settings.config().listen().equals(next.listen());
    }

    /** Applies rules, upstream and timeouts of a reloaded table that listens where this one does. */
    public void reconfigure(DnsConfig next, Optional<Tunnel> tunnel, UdpSetup udpSetup) {
        if (!sameSockets(next)) {
            throw new IllegalArgumentException("listen addresses changed: start a new server");
        }
        settings = new Settings(next, tunnel, udpSetup);
    }

    /** The bound addresses (UDP and TCP share each), in config order; port 0 resolved. */
    public List<InetSocketAddress> addresses() {
        return List.copyOf(bound);
    }

    public Stats stats() {
        return new Stats(queries.sum(), fakeAnswers.sum(), forwarded.sum(), failed.sum());
    }

    private void bindUdp(InetSocketAddress address) throws IOException {
        DatagramChannel channel = DatagramChannel.open(address.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        boolean success = false;
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address);
            channel.configureBlocking(false);
            udp.add(channel);
            onLoop(() -> loop.register(channel, SelectionKey.OP_READ, new UdpEndpoint(channel)));
            bound.add((InetSocketAddress) channel.getLocalAddress());
            success = true;
        } catch (IOException e) {
            throw new IOException("cannot serve DNS on UDP " + AddressSyntax.format(address) + ": " + e.getMessage()
                    + " (is another resolver, such as systemd-resolved, using that port?)", e);
        } finally {
            if (!success) {
                ChannelClose.quietly(channel);
            }
        }
    }

    /**
     * UDP and TCP on one address. With port 0 (tests) TCP picks the port and UDP takes the same one; when another
     * UDP socket has that port already, another port is tried, a few times.
     */
    private void bind(InetSocketAddress address) throws IOException {
        for (int attempt = 1; ; attempt++) {
            ServerSocketChannel channel = Acceptor.bind(address, 128, Acceptor.ListenerSetup.NONE);
            InetSocketAddress same = (InetSocketAddress) channel.getLocalAddress();
            try {
                bindUdp(same);
            } catch (IOException e) {
                ChannelClose.quietly(channel);
                if (address.getPort() != 0 || attempt == 5) {
                    throw e;
                }
                continue;
            }
            startTcp(channel, same);
            return;
        }
    }

    private void startTcp(ServerSocketChannel channel, InetSocketAddress same) throws IOException {
        Acceptor acceptor = Acceptor.create(group, channel, new ConnectionLimit(MAX_TCP_CLIENTS),
                "DNS over TCP " + AddressSyntax.format(same), (clientLoop, client, from) -> {
                    try {
                        new TcpClient(clientLoop, client, from).start();
                    } catch (IOException e) {
                        ChannelClose.quietly(client);
                        from.release();
                    }
                });
        tcp.add(acceptor);
        acceptor.start();
    }

    private interface LoopAction {
        void run() throws IOException;
    }

    private void onLoop(LoopAction action) throws IOException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                action.run();
                done.complete(null);
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        try {
            done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** Where an answer goes back: a datagram to the client, or a frame on its TCP connection. */
    private interface Responder {
        void reply(ByteBuffer message);

        /** The most bytes the client takes in one answer (UDP); larger ones are sent truncated. */
        int limit();
    }

    /** Loop thread: answers, forwards or drops one query. */
    private void handle(ByteBuffer bytes, Responder responder, String client) {
        queries.increment();
        Decoded<DnsMessage> decoded = DnsCodec.decode(bytes.duplicate());
        if (!(decoded instanceof Decoded.Message<DnsMessage> message)) {
            if (bytes.remaining() >= 2) {
                failed.increment();
                responder.reply(headerOnly(bytes.getShort(bytes.position()) & 0xffff, DnsRcode.FORMERR));
            }
            Logger.debug("dns from {}: {}", client, decoded);
            return;
        }
        DnsMessage query = message.message();
        if (query.isResponse()) {
            return;
        }
        if (query.opcode() != 0) {
            responder.reply(DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.NOTIMP, List.of())));
            return;
        }
        DnsQuestion question = query.question();
        if (question == null) {
            failed.increment();
            responder.reply(DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.FORMERR, List.of())));
            return;
        }
        Settings now = settings;
        String name = DnsName.canonical(question.name());
        Optional<InetAddress> reversed = question.asks(DnsType.PTR) ? DnsName.reverseAddress(name)
                : Optional.empty();
        DnsConfig.Action action = now.config().actionFor(name);
        if (reversed.isPresent() && map.inPool(reversed.get())) {
            answerReverse(query, question, reversed.get(), now, responder, client);
        } else if (action == DnsConfig.Action.PROXY && !name.isEmpty()) {
            answerFake(query, question, name, now, responder, client);
        } else if (now.config().upstream().isPresent()) {
            forward(query, bytes, now, responder, client);
        } else {
            failed.increment();
            Logger.debug("dns from {}: {} refused: no upstream", client, question);
            responder.reply(DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.REFUSED, List.of())));
        }
    }

    /** A PTR query for a pool address: the name it stands for, or NXDOMAIN; never asked upstream. */
    private void answerReverse(DnsMessage query, DnsQuestion question, InetAddress address, Settings now,
                               Responder responder, String client) {
        fakeAnswers.increment();
        Optional<String> mapped = map.nameOf(address);
        Logger.debug("dns from {}: {} -> {}", client, question, mapped.orElse("no name"));
        responder.reply(DnsCodec.encode(mapped.isPresent()
                ? DnsMessage.responseTo(query, DnsRcode.NOERROR,
                        List.of(DnsRecord.pointer(question.name(), mapped.get(), now.config().ttl())))
                : DnsMessage.responseTo(query, DnsRcode.NXDOMAIN, List.of())));
    }

    private void answerFake(DnsMessage query, DnsQuestion question, String name, Settings now, Responder responder,
                            String client) {
        boolean a = question.asks(DnsType.A);
        boolean aaaa = question.asks(DnsType.AAAA);
        if (!a && !aaaa) {
            // MX, TXT, HTTPS ... for a proxied name: no records, and nothing asked upstream
            fakeAnswers.increment();
            responder.reply(DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.NOERROR, List.of())));
            return;
        }
        Optional<InetAddress> address = map.assign(name, aaaa);
        if (address.isEmpty()) {
            failed.increment();
            Logger.warn("dns: no fake address for {}: every pool address was used within the last {}"
                    + " (raise max-entries or widen the pool)", name, now.config().ttl());
            responder.reply(DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.SERVFAIL, List.of())));
            return;
        }
        fakeAnswers.increment();
        Logger.debug("dns from {}: {} -> {}", client, question, AddressSyntax.literal(address.get()));
        responder.reply(DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.NOERROR,
                List.of(DnsRecord.address(question.name(), address.get(), now.config().ttl())))));
    }

    private void forward(DnsMessage query, ByteBuffer bytes, Settings now, Responder responder, String client) {
        if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
            inFlight.decrementAndGet();
            failed.increment();
            responder.reply(DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.SERVFAIL, List.of())));
            return;
        }
        forwarded.increment();
        InetSocketAddress upstream = now.config().upstream().orElseThrow();
        Forward forward = new Forward(query, responder, client);
        forward.deadline = loop().schedule(now.config().timeout(), () -> forward.fail("no answer from "
                + AddressSyntax.format(upstream) + " within " + now.config().timeout().toMillis() + "ms"));
        ByteBuffer payload = ByteBuffer.allocate(bytes.remaining()).put(bytes.duplicate()).flip();
        if (now.tunnel().isPresent() && now.config().upstreamViaChain().isPresent()) {
            now.tunnel().get().open(loop(), upstream, now.config().timeout(), new Tunnel.Opened() {
                @Override
                public void opened(SocketChannel channel, byte[] earlyData) {
                    forward.overTcp(channel, payload, earlyData);
                }

                @Override
                public void failed(String reason) {
                    forward.fail("through chain " + now.config().upstreamViaChain().get() + ": " + reason);
                }
            });
        } else {
            forward.overUdp(upstream, payload, now.udpSetup());
        }
    }

    /** The loop of the calling thread's work: forwards run where their query arrived. */
    private EventLoop loop() {
        for (EventLoop candidate : group.loops()) {
            if (candidate.inLoop()) {
                return candidate;
            }
        }
        throw new IllegalStateException("not on a DNS loop");
    }

    private static ByteBuffer headerOnly(int id, DnsRcode rcode) {
        return DnsCodec.encode(new DnsMessage(id, 0x8000 | rcode.value(), List.of(), List.of(), List.of(),
                List.of()));
    }

    /** One forwarded query: a UDP socket of its own, or a TCP stream through the chain. Loop thread only. */
    private final class Forward implements IoHandler {
        final DnsMessage query;
        final Responder responder;
        final String client;
        Timer deadline;
        java.nio.channels.SelectableChannel channel;
        ByteBuffer tcpOut;
        ByteBuffer tcpIn;
        boolean over;

        Forward(DnsMessage query, Responder responder, String client) {
            this.query = query;
            this.responder = responder;
            this.client = client;
        }

        void overUdp(InetSocketAddress upstream, ByteBuffer payload, UdpSetup setup) {
            try {
                DatagramChannel datagram = DatagramChannel.open(upstream.getAddress() instanceof Inet6Address
                        ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
                channel = datagram;
                setup.apply(datagram);
                datagram.configureBlocking(false);
                datagram.connect(upstream);
                datagram.write(payload);
                loop().register(datagram, SelectionKey.OP_READ, this);
            } catch (IOException e) {
                fail("cannot send to " + AddressSyntax.format(upstream) + ": " + e.getMessage());
            }
        }

        void overTcp(SocketChannel stream, ByteBuffer payload, byte[] earlyData) {
            channel = stream;
            if (over) {
                ChannelClose.quietly(stream);
                return;
            }
            tcpOut = DnsCodec.frame(payload);
            tcpIn = ByteBuffer.allocate(2 + DnsCodec.MAX_MESSAGE);
            tcpIn.put(earlyData, 0, Math.min(earlyData.length, tcpIn.capacity()));
            try {
                stream.write(tcpOut);
                loop().register(stream, SelectionKey.OP_READ | (tcpOut.hasRemaining() ? SelectionKey.OP_WRITE : 0),
                        this);
            } catch (IOException e) {
                fail("through the chain: " + e.getMessage());
            }
        }

        @Override
        public void ready(SelectionKey key) throws IOException {
            if (channel instanceof DatagramChannel datagram) {
                ByteBuffer in = ByteBuffer.allocate(DnsCodec.MAX_MESSAGE);
                int n;
                while ((n = datagram.read(in.clear())) > 0) {
                    in.flip();
                    if (matches(in)) {
                        answer(in);
                        return;
                    }
                }
                return;
            }
            SocketChannel stream = (SocketChannel) channel;
            if (key.isWritable()) {
                stream.write(tcpOut);
                if (!tcpOut.hasRemaining()) {
                    key.interestOps(SelectionKey.OP_READ);
                }
            }
            if (key.isReadable()) {
                if (stream.read(tcpIn) < 0) {
                    fail("the resolver closed the connection before answering");
                    return;
                }
                tcpIn.flip();
                Decoded<ByteBuffer> frame = DnsCodec.unframe(tcpIn);
                tcpIn.compact();
                if (frame instanceof Decoded.Message<ByteBuffer> m) {
                    if (matches(m.message())) {
                        answer(m.message());
                    } else {
                        fail("the resolver answered another query");
                    }
                } else if (frame instanceof Decoded.Malformed<ByteBuffer> bad) {
                    fail(bad.reason());
                }
            }
        }

        /** The answer to this query: same id and question (a stray or spoofed datagram is ignored). */
        boolean matches(ByteBuffer answer) {
            Decoded<DnsMessage> decoded = DnsCodec.decode(answer.duplicate());
            return decoded instanceof Decoded.Message<DnsMessage> m && m.message().isResponse()
                    && m.message().id() == query.id() && m.message().questions().equals(query.questions());
        }

        void answer(ByteBuffer answer) {
            if (finish()) {
                if (answer.remaining() > responder.limit()) {
                    DnsMessage whole = ((Decoded.Message<DnsMessage>) DnsCodec.decode(answer.duplicate())).message();
                    responder.reply(DnsCodec.encode(new DnsMessage(whole.id(), whole.flags() | 0x0200,
                            whole.questions(), List.of(), List.of(), List.of())));
                } else {
                    responder.reply(answer);
                }
            }
        }

        void fail(String reason) {
            if (finish()) {
                failed.increment();
                Logger.warn("dns from {}: {} forwarded: {}; answered SERVFAIL", client, query.question(), reason);
                responder.reply(DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.SERVFAIL, List.of())));
            }
        }

        /** Ends this forward once; false if it already ended. */
        boolean finish() {
            if (over) {
                return false;
            }
            over = true;
            inFlight.decrementAndGet();
            if (deadline != null) {
                deadline.cancel();
            }
            if (channel != null) {
                ChannelClose.quietly(channel);
            }
            return true;
        }

        @Override
        public void failed(Throwable cause) {
            fail(String.valueOf(cause.getMessage()));
        }
    }

    /** A UDP listen socket: one query per datagram, the answer to its sender. */
    private final class UdpEndpoint implements IoHandler {
        final DatagramChannel channel;
        final ByteBuffer in = ByteBuffer.allocate(DnsCodec.MAX_MESSAGE);

        UdpEndpoint(DatagramChannel channel) {
            this.channel = channel;
        }

        @Override
        public void ready(SelectionKey key) throws IOException {
            for (int i = 0; i < 64; i++) {
                SocketAddress from = channel.receive(in.clear());
                if (from == null) {
                    return;
                }
                in.flip();
                ByteBuffer query = ByteBuffer.allocate(in.remaining()).put(in).flip();
                int limit = udpLimit(query);
                handle(query, new Responder() {
                    @Override
                    public void reply(ByteBuffer message) {
                        try {
                            channel.send(message, from);
                        } catch (IOException e) {
                            Logger.debug("dns: cannot answer {}: {}", from, e.getMessage());
                        }
                    }

                    @Override
                    public int limit() {
                        return limit;
                    }
                }, AddressSyntax.format((InetSocketAddress) from));
            }
        }

        @Override
        public void failed(Throwable cause) {
            ChannelClose.quietly(channel);
        }
    }

    /** 512 bytes, or the payload size of the query's EDNS OPT record. */
    private static int udpLimit(ByteBuffer query) {
        if (DnsCodec.decode(query.duplicate()) instanceof Decoded.Message<DnsMessage> m) {
            for (DnsRecord r : m.message().additionals()) {
                if (r.type() == DnsType.OPT.value()) {
                    return Math.max(DnsCodec.CLASSIC_UDP_PAYLOAD, r.dnsClass());
                }
            }
        }
        return DnsCodec.CLASSIC_UDP_PAYLOAD;
    }

    /** One DNS-over-TCP client: length-prefixed queries in, answers out in the order they are ready. */
    private final class TcpClient implements IoHandler {
        final EventLoop clientLoop;
        final SocketChannel channel;
        final Acceptor acceptor;
        final String name;
        final ByteBuffer in = ByteBuffer.allocate(2 + DnsCodec.MAX_MESSAGE);
        final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        SelectionKey key;
        Timer idle;
        int pending;
        boolean inputDone;
        boolean closed;

        TcpClient(EventLoop clientLoop, SocketChannel channel, Acceptor acceptor) throws IOException {
            this.clientLoop = clientLoop;
            this.channel = channel;
            this.acceptor = acceptor;
            this.name = AddressSyntax.format((InetSocketAddress) channel.getRemoteAddress()) + " (TCP)";
        }

        void start() throws IOException {
            key = clientLoop.register(channel, SelectionKey.OP_READ, this);
            idle = clientLoop.schedule(TCP_IDLE, this::close);
        }

        @Override
        public void ready(SelectionKey selected) throws IOException {
            if (selected.isWritable()) {
                flush();
            }
            if (!closed && selected.isReadable()) {
                int n = channel.read(in);
                if (n < 0) {
                    inputDone = true;
                    key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
                }
                in.flip();
                while (true) {
                    Decoded<ByteBuffer> frame = DnsCodec.unframe(in);
                    if (frame instanceof Decoded.Message<ByteBuffer> m) {
                        pending++;
                        handle(m.message(), new Responder() {
                            @Override
                            public void reply(ByteBuffer message) {
                                pending--;
                                out.add(DnsCodec.frame(message));
                                try {
                                    flush();
                                } catch (IOException e) {
                                    close();
                                }
                            }

                            @Override
                            public int limit() {
                                return DnsCodec.MAX_MESSAGE;
                            }
                        }, name);
                    } else if (frame instanceof Decoded.Malformed<ByteBuffer>) {
                        close();
                        return;
                    } else {
                        break;
                    }
                }
                in.compact();
                idle.cancel();
                idle = clientLoop.schedule(TCP_IDLE, this::close);
                closeIfDone();
            }
        }

        void flush() throws IOException {
            if (closed) {
                return;
            }
            while (!out.isEmpty()) {
                channel.write(out.peek());
                if (out.peek().hasRemaining()) {
                    key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
                    return;
                }
                out.poll();
            }
            key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
            closeIfDone();
        }

        void closeIfDone() {
            if (inputDone && pending == 0 && out.isEmpty()) {
                close();
            }
        }

        void close() {
            if (!closed) {
                closed = true;
                idle.cancel();
                ChannelClose.quietly(channel);
                acceptor.release();
            }
        }

        @Override
        public void failed(Throwable cause) {
            close();
        }
    }

    /** Stops answering and closes every socket. */
    @Override
    public void close() {
        for (Acceptor acceptor : tcp) {
            acceptor.close();
        }
        for (DatagramChannel channel : udp) {
            ChannelClose.quietly(channel);
        }
        group.close();
    }

    @Override
    public String toString() {
        return "DNS server on " + bound.stream().map(AddressSyntax::format).toList();
    }
}
