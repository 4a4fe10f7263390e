package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Hex;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SOCKS5 UDP ASSOCIATE in raw bytes (RFC 1928 section 7): the TCP control connection, the relay address in the
 * reply, the {@code RSV RSV FRAG ATYP DST.ADDR DST.PORT DATA} header both ways, and what the relay must drop.
 */
@Timeout(30)
class UdpAssociateTest {

    private static final Duration QUIET = Duration.ofMillis(500);

    private final Teardown teardown = new Teardown();
    private UdpEchoServer echo;

    @BeforeEach
    void setUp() throws IOException {
        echo = teardown.add(UdpEchoServer.start(Loopback.V4));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    /** Greets, asks for an association and returns the relay address from the reply. */
    private static InetSocketAddress associate(WireClient control, String requestAddress) throws IOException {
        control.send("05 01 00");
        assertThat(control.readHex(2)).isEqualTo("05 00");
        control.send("05 03 00 " + requestAddress);
        byte[] head = control.read(4);
        assertThat(Hex.of(Arrays.copyOf(head, 3))).isEqualTo("05 00 00");
        int length = head[3] == 1 ? 4 : head[3] == 4 ? 16 : -1;
        assertThat(length).as("ATYP of the relay address, %02x", head[3]).isPositive();
        byte[] rest = control.read(length + 2);
        InetAddress relayIp = InetAddress.getByAddress(Arrays.copyOf(rest, length));
        return new InetSocketAddress(relayIp, WireClient.portAt(rest, length));
    }

    private DatagramSocket udpSocket(InetAddress address) throws IOException {
        DatagramSocket socket = teardown.add(new DatagramSocket(new InetSocketAddress(address, 0)));
        socket.setSoTimeout((int) WireClient.READ_TIMEOUT.toMillis());
        return socket;
    }

    private static void send(DatagramSocket socket, InetSocketAddress relay, String hex) throws IOException {
        byte[] bytes = Hex.bytes(hex);
        socket.send(new DatagramPacket(bytes, bytes.length, relay));
    }

    private static String receiveHex(DatagramSocket socket) throws IOException {
        byte[] buffer = new byte[2048];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        socket.receive(packet);
        return Hex.of(Arrays.copyOf(buffer, packet.getLength()));
    }

    private static void assertNothingArrives(DatagramSocket socket) throws IOException {
        socket.setSoTimeout((int) QUIET.toMillis());
        try {
            byte[] buffer = new byte[2048];
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            socket.receive(packet);
            throw new AssertionError("expected no datagram, got " + Hex.of(Arrays.copyOf(buffer, packet.getLength())));
        } catch (SocketTimeoutException expected) {
            // silence is the answer
        } finally {
            socket.setSoTimeout((int) WireClient.READ_TIMEOUT.toMillis());
        }
    }

    private String toEcho() {
        return WireClient.socks5Address(echo.address());
    }

    @Test
    void relaysDropsWhatItMustAndEndsWithTheControlConnection() throws IOException {
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
        WireClient control = teardown.add(WireClient.connect(server));
        InetSocketAddress relay = associate(control, "01 00 00 00 00 00 00");
        assertThat(relay.getAddress()).as("the relay is where the client reached the server").isEqualTo(Loopback.V4);
        assertThat(server.activeConnections()).isEqualTo(1);

        DatagramSocket client = udpSocket(Loopback.V4);
        send(client, relay, "00 00 00 " + toEcho() + " 'ping 1'");
        assertThat(receiveHex(client)).as("echo with the echo server as source")
                .isEqualTo(Hex.normalized("00 00 00 " + toEcho() + " 'ping 1'"));
        assertThat(echo.received()).singleElement().satisfies(datagram -> {
            assertThat(datagram.payload()).isEqualTo(Hex.bytes("'ping 1'"));
            assertThat(datagram.sender().getAddress()).isEqualTo(Loopback.V4);
            assertThat(datagram.sender().getPort()).as("sent from the relay, not the client")
                    .isNotEqualTo(client.getLocalPort());
        });

        send(client, relay, "00 00 01 " + toEcho() + " 'fragment'");
        send(client, relay, "00 00 00 01 7f 00");
        assertNothingArrives(client);
        assertThat(echo.received()).as("FRAG 01 and a truncated header are dropped").hasSize(1);

        send(client, relay, "00 00 00 " + toEcho() + " 'ping 2'");
        assertThat(receiveHex(client)).isEqualTo(Hex.normalized("00 00 00 " + toEcho() + " 'ping 2'"));

        DatagramSocket intruder = udpSocket(Loopback.V4);
        send(intruder, relay, "00 00 00 " + toEcho() + " 'intruder'");
        assertNothingArrives(intruder);
        assertNothingArrives(client);
        assertThat(echo.received()).as("another source port after the first datagram is dropped").hasSize(2);

        control.close();
        Eventually.noneActive("active connections", server::activeConnections);
        send(client, relay, "00 00 00 " + toEcho() + " 'after the end'");
        assertNothingArrives(client);
        assertThat(echo.received()).as("the association ended with its control connection").hasSize(2);
    }

    @Test
    void onlyDestinationsTheClientSentToMayAnswer() throws IOException {
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
        WireClient control = teardown.add(WireClient.connect(server));
        InetSocketAddress relay = associate(control, "01 00 00 00 00 00 00");
        DatagramSocket client = udpSocket(Loopback.V4);
        send(client, relay, "00 00 00 " + toEcho() + " 'hello'");
        assertThat(receiveHex(client)).isEqualTo(Hex.normalized("00 00 00 " + toEcho() + " 'hello'"));
        // The echo server saw the relay's outgoing address; a stranger who learns it must not reach the client.
        InetSocketAddress outgoing = echo.received().get(0).sender();
        DatagramSocket stranger = udpSocket(Loopback.V4);
        send(stranger, outgoing, "'unsolicited'");
        assertNothingArrives(client);
        send(client, relay, "00 00 00 " + toEcho() + " 'still works'");
        assertThat(receiveHex(client)).isEqualTo(Hex.normalized("00 00 00 " + toEcho() + " 'still works'"));
    }

    @Test
    void onlyThePortNamedInTheRequestMayStartTheAssociation() throws IOException {
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
        DatagramSocket client = udpSocket(Loopback.V4);
        DatagramSocket other = udpSocket(Loopback.V4);
        WireClient control = teardown.add(WireClient.connect(server));
        InetSocketAddress relay = associate(control, "01 7f 00 00 01 " + WireClient.port(client.getLocalPort()));

        send(other, relay, "00 00 00 " + toEcho() + " 'from elsewhere'");
        assertNothingArrives(other);
        send(client, relay, "00 00 00 " + toEcho() + " 'from the named port'");
        assertThat(receiveHex(client)).isEqualTo(Hex.normalized("00 00 00 " + toEcho() + " 'from the named port'"));
        assertThat(echo.received()).hasSize(1);
    }

    @Test
    void datagramsFromAnotherAddressThanTheControlConnectionAreDropped() throws IOException {
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
        WireClient control = teardown.add(WireClient.connect(server));
        InetSocketAddress relay = associate(control, "01 00 00 00 00 00 00");

        DatagramSocket stranger = udpSocket(Loopback.V4_OTHER);
        send(stranger, relay, "00 00 00 " + toEcho() + " 'from 127.0.0.2'");
        assertNothingArrives(stranger);
        assertThat(echo.received()).isEmpty();

        DatagramSocket client = udpSocket(Loopback.V4);
        send(client, relay, "00 00 00 " + toEcho() + " 'from 127.0.0.1'");
        assertThat(receiveHex(client)).isEqualTo(Hex.normalized("00 00 00 " + toEcho() + " 'from 127.0.0.1'"));
    }

    @Test
    void aDestinationNameIsResolvedByTheServer() throws IOException {
        UdpEchoServer byName = teardown.add(UdpEchoServer.start(Loopback.localhost()));
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
        WireClient control = teardown.add(WireClient.connect(server));
        InetSocketAddress relay = associate(control, "01 00 00 00 00 00 00");
        DatagramSocket client = udpSocket(Loopback.V4);
        send(client, relay, "00 00 00 03 09 'localhost' " + WireClient.port(byName.port()) + " 'by name'");
        assertThat(receiveHex(client)).as("the answer names the resolved source")
                .isEqualTo(Hex.normalized("00 00 00 " + WireClient.socks5Address(byName.address()) + " 'by name'"));
    }

    @Test
    void ipv6AssociationOnAnIpv6Listener() throws IOException {
        UdpEchoServer echo6 = teardown.add(UdpEchoServer.start(Loopback.v6OrSkip()));
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withListen(List.of(new InetSocketAddress(Loopback.V6, 0)))));
        WireClient control = teardown.add(WireClient.connect(server));
        InetSocketAddress relay = associate(control, "01 00 00 00 00 00 00");
        assertThat(relay.getAddress()).isEqualTo(Loopback.V6);
        DatagramSocket client = udpSocket(Loopback.V6);
        String header = "00 00 00 " + WireClient.socks5Address(echo6.address());
        send(client, relay, header + " 'over ::1'");
        assertThat(receiveHex(client)).isEqualTo(Hex.normalized(header + " 'over ::1'"));
    }
}
