package dev.chainsocks.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.config.DnsConfig;
import dev.chainsocks.engine.Connector;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.dns.DnsCodec;
import dev.chainsocks.proto.dns.DnsMessage;
import dev.chainsocks.proto.dns.DnsQuestion;
import dev.chainsocks.proto.dns.DnsRcode;
import dev.chainsocks.proto.dns.DnsRecord;
import dev.chainsocks.proto.dns.DnsType;
import dev.chainsocks.syntax.Cidr;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The DNS server on loopback: fake answers, forwarding over UDP and through a tunnel, TCP framing, errors. */
class DnsServerTest {

    static final InetSocketAddress ANY_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    final FakeIpMap map = FakeIpMap.of(Optional.empty());
    final ConcurrentLinkedQueue<Throwable> upstreamErrors = new ConcurrentLinkedQueue<>();
    DnsServer server;
    DatagramSocket upstreamUdp;
    ServerSocket upstreamTcp;

    @AfterEach
    void close() throws Exception {
        if (server != null) {
            server.close();
        }
        if (upstreamUdp != null) {
            upstreamUdp.close();
        }
        if (upstreamTcp != null) {
            upstreamTcp.close();
        }
        assertThat(upstreamErrors).isEmpty();
    }

    static DnsConfig config(Optional<InetSocketAddress> upstream, Optional<String> via) {
        return new DnsConfig(List.of(ANY_PORT), Cidr.parse("100.64.0.0/10"), Cidr.parse("64:ff9b:1::/48"),
                Duration.ofSeconds(60), 100, List.of(new DnsConfig.Rule("lan", DnsConfig.Action.DIRECT)),
                DnsConfig.Action.PROXY, upstream, via, Duration.ofSeconds(2));
    }

    DnsServer start(DnsConfig config, Optional<DnsServer.Tunnel> tunnel) throws IOException {
        map.reconfigure(Optional.of(config));
        server = DnsServer.start(config, map, tunnel, DnsServer.UdpSetup.NONE);
        return server;
    }

    static DnsMessage ask(InetSocketAddress server, DnsMessage query) throws IOException {
        return decode(askRaw(server, DnsCodec.encode(query)));
    }

    static ByteBuffer askRaw(InetSocketAddress server, ByteBuffer query) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(5000);
            byte[] bytes = new byte[query.remaining()];
            query.get(bytes);
            socket.send(new DatagramPacket(bytes, bytes.length, server));
            DatagramPacket answer = new DatagramPacket(new byte[65535], 65535);
            socket.receive(answer);
            return ByteBuffer.wrap(answer.getData(), 0, answer.getLength());
        }
    }

    static DnsMessage decode(ByteBuffer bytes) {
        return ((Decoded.Message<DnsMessage>) DnsCodec.decode(bytes)).message();
    }

    @Test
    void proxiedNamesGetPoolAddressesThatMapBack() throws Exception {
        InetSocketAddress at = start(config(Optional.empty(), Optional.empty()), Optional.empty()).addresses().get(0);
        DnsMessage a = ask(at, DnsMessage.query(1, DnsQuestion.in("WWW.Example.com", DnsType.A)));
        assertThat(a).hasToString("response 1 NOERROR(0) [WWW.Example.com A(1)] -> [WWW.Example.com A(1) ttl 60"
                + " 100.64.0.1]");
        DnsMessage aaaa = ask(at, DnsMessage.query(2, DnsQuestion.in("www.example.com", DnsType.AAAA)));
        assertThat(aaaa.answers()).extracting(DnsRecord::address).containsExactly(
                Optional.of(InetAddress.getByName("64:ff9b:1::1")));
        assertThat(ask(at, DnsMessage.query(3, DnsQuestion.in("www.example.com", DnsType.A))).answers())
                .extracting(DnsRecord::address).containsExactly(Optional.of(InetAddress.getByName("100.64.0.1")));
        DnsMessage mx = ask(at, DnsMessage.query(4, DnsQuestion.in("example.com", DnsType.MX)));
        assertThat(mx).hasToString("response 4 NOERROR(0) [example.com MX(15)]");
        assertThat(map.lookup(InetAddress.getByName("100.64.0.1")))
                .isEqualTo(new FakeIpMap.Lookup.Mapped("www.example.com"));
        assertThat(server.stats()).isEqualTo(new DnsServer.Stats(4, 4, 0, 0));
    }

    @Test
    void reverseLookupsOfPoolAddressesAreAnsweredFromTheMap() throws Exception {
        InetSocketAddress at = start(config(Optional.empty(), Optional.empty()), Optional.empty()).addresses().get(0);
        ask(at, DnsMessage.query(1, DnsQuestion.in("www.example.com", DnsType.A)));
        ask(at, DnsMessage.query(2, DnsQuestion.in("www.example.com", DnsType.AAAA)));
        FakeIpMap.Stats before = map.stats();
        assertThat(ask(at, DnsMessage.query(3, DnsQuestion.in("1.0.64.100.in-addr.arpa", DnsType.PTR))))
                .hasToString("response 3 NOERROR(0) [1.0.64.100.in-addr.arpa PTR(12)] -> [1.0.64.100.in-addr.arpa"
                        + " PTR(12) ttl 60 www.example.com]");
        String v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa";
        assertThat(ask(at, DnsMessage.query(4, DnsQuestion.in(v6, DnsType.PTR))).answers())
                .extracting(DnsRecord::pointerTarget).containsExactly(Optional.of("www.example.com"));
        assertThat(ask(at, DnsMessage.query(5, DnsQuestion.in("2.0.64.100.in-addr.arpa", DnsType.PTR))))
                .as("a pool address with no name").hasToString("response 5 NXDOMAIN(3) [2.0.64.100.in-addr.arpa"
                        + " PTR(12)]");
        // not a pool address: the usual rules (here the default, proxy: an empty answer for a type not A/AAAA)
        assertThat(ask(at, DnsMessage.query(6, DnsQuestion.in("9.1.168.192.in-addr.arpa", DnsType.PTR))))
                .hasToString("response 6 NOERROR(0) [9.1.168.192.in-addr.arpa PTR(12)]");
        assertThat(map.stats()).as("a reverse lookup is not a use of the mapping").isEqualTo(before);
    }

    @Test
    void directNamesWithoutUpstreamAreRefusedAndGarbageIsFormerr() throws Exception {
        InetSocketAddress at = start(config(Optional.empty(), Optional.empty()), Optional.empty()).addresses().get(0);
        assertThat(ask(at, DnsMessage.query(5, DnsQuestion.in("printer.lan", DnsType.A))))
                .hasToString("response 5 REFUSED(5) [printer.lan A(1)]");
        assertThat(decode(askRaw(at, ByteBuffer.wrap(new byte[] {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7}))))
                .hasToString("response 4660 FORMERR(1) []");
    }

    @Test
    void directNamesAreForwardedOverUdpAndTheAnswerPassesUnchanged() throws Exception {
        upstreamUdp = new DatagramSocket(ANY_PORT);
        AtomicInteger asked = new AtomicInteger();
        Thread resolver = new Thread(() -> {
            try {
                DatagramPacket packet = new DatagramPacket(new byte[512], 512);
                upstreamUdp.receive(packet);
                asked.incrementAndGet();
                DnsMessage query = decode(ByteBuffer.wrap(packet.getData(), 0, packet.getLength()));
                ByteBuffer answer = DnsCodec.encode(DnsMessage.responseTo(query, DnsRcode.NOERROR, List.of(
                        DnsRecord.address(query.question().name(), InetAddress.getByName("192.168.1.9"),
                                Duration.ofSeconds(300)))));
                upstreamUdp.send(new DatagramPacket(answer.array(), answer.remaining(), packet.getSocketAddress()));
            } catch (IOException | RuntimeException e) {
                upstreamErrors.add(e);
            }
        });
        resolver.start();
        InetSocketAddress at = start(config(Optional.of((InetSocketAddress) upstreamUdp.getLocalSocketAddress()),
                Optional.empty()), Optional.empty()).addresses().get(0);
        assertThat(ask(at, DnsMessage.query(6, DnsQuestion.in("printer.lan", DnsType.A)))).hasToString(
                "response 6 NOERROR(0) [printer.lan A(1)] -> [printer.lan A(1) ttl 300 192.168.1.9]");
        resolver.join(5000);
        assertThat(asked).hasValue(1);
        assertThat(server.stats()).isEqualTo(new DnsServer.Stats(1, 0, 1, 0));
    }

    @Test
    void anUpstreamThatStaysSilentGetsServfailAfterTheTimeout() throws Exception {
        upstreamUdp = new DatagramSocket(ANY_PORT);
        InetSocketAddress at = start(config(Optional.of((InetSocketAddress) upstreamUdp.getLocalSocketAddress()),
                Optional.empty()), Optional.empty()).addresses().get(0);
        assertThat(ask(at, DnsMessage.query(7, DnsQuestion.in("printer.lan", DnsType.A))))
                .hasToString("response 7 SERVFAIL(2) [printer.lan A(1)]");
        assertThat(server.stats().failed()).isEqualTo(1);
    }

    /** A TCP client of the server, and a forward through a tunnel to a TCP resolver. */
    @Test
    void tcpClientsAndForwardsThroughTheTunnel() throws Exception {
        upstreamTcp = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Thread resolver = new Thread(() -> {
            try (Socket s = upstreamTcp.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] query = new byte[in.readUnsignedShort()];
                in.readFully(query);
                DnsMessage q = decode(ByteBuffer.wrap(query));
                ByteBuffer answer = DnsCodec.frame(DnsCodec.encode(DnsMessage.responseTo(q, DnsRcode.NXDOMAIN,
                        List.of())));
                OutputStream out = s.getOutputStream();
                out.write(answer.array(), 0, answer.remaining());
                out.flush();
            } catch (IOException | RuntimeException e) {
                upstreamErrors.add(e);
            }
        });
        resolver.start();
        AtomicInteger tunnels = new AtomicInteger();
        DnsServer.Tunnel direct = (loop, upstream, timeout, opened) -> {
            tunnels.incrementAndGet();
            Connector.connect(loop, upstream, timeout, Connector.SocketSetup.NONE, new Connector.Callback() {
                @Override
                public void connected(SocketChannel channel) {
                    opened.opened(channel, new byte[0]);
                }

                @Override
                public void failed(IOException cause) {
                    opened.failed(cause.getMessage());
                }
            });
        };
        InetSocketAddress at = start(config(Optional.of((InetSocketAddress) upstreamTcp.getLocalSocketAddress()),
                Optional.of("main")), Optional.of(direct)).addresses().get(0);
        try (Socket client = new Socket(at.getAddress(), at.getPort())) {
            client.setSoTimeout(5000);
            OutputStream out = client.getOutputStream();
            ByteBuffer one = DnsCodec.frame(DnsCodec.encode(DnsMessage.query(8, DnsQuestion.in("nas.lan",
                    DnsType.A))));
            ByteBuffer two = DnsCodec.frame(DnsCodec.encode(DnsMessage.query(9, DnsQuestion.in("example.org",
                    DnsType.A))));
            out.write(one.array());
            out.write(two.array());
            out.flush();
            DataInputStream in = new DataInputStream(client.getInputStream());
            List<String> answers = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                byte[] answer = new byte[in.readUnsignedShort()];
                in.readFully(answer);
                answers.add(decode(ByteBuffer.wrap(answer)).toString());
            }
            assertThat(answers).containsExactlyInAnyOrder(
                    "response 8 NXDOMAIN(3) [nas.lan A(1)]",
                    "response 9 NOERROR(0) [example.org A(1)] -> [example.org A(1) ttl 60 100.64.0.1]");
        }
        resolver.join(5000);
        assertThat(tunnels).hasValue(1);
    }
}
