package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Hex;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * BIND in raw bytes, SOCKS5 (RFC 1928 section 4) and SOCKS4: the first reply names the listening address, a third
 * party connects there, the second reply names that party, then bytes flow both ways on the control connection.
 */
@Timeout(30)
class BindTest {

    private final Teardown teardown = new Teardown();
    private SocksServer server;

    @BeforeEach
    void setUp() throws IOException {
        server = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    /** SOCKS5 BIND expecting a peer from {@code expected}; returns the listening port from the first reply. */
    private static int socks5Bind(WireClient client, String expected) throws IOException {
        client.send("05 01 00");
        assertThat(client.readHex(2)).isEqualTo("05 00");
        client.send("05 02 00 01 " + expected + " 00 00");
        byte[] first = client.read(10);
        assertThat(Hex.of(Arrays.copyOf(first, 8))).as("first reply: listening on the address the client used")
                .isEqualTo("05 00 00 01 7f 00 00 01");
        int port = WireClient.portAt(first, 8);
        assertThat(port).isPositive();
        return port;
    }

    /** SOCKS4 BIND expecting a peer from {@code expected}; returns the listening port from the first reply. */
    private static int socks4Bind(WireClient client, String expected) throws IOException {
        client.send("04 02 00 00 " + expected + " 'ftp' 00");
        byte[] first = client.read(8);
        assertThat(Hex.of(first)).startsWith("00 5a").endsWith("7f 00 00 01");
        return WireClient.portAt(first, 2);
    }

    private Socket peer(InetAddress from, int port) throws IOException {
        Socket peer = teardown.add(new Socket());
        peer.setSoTimeout((int) WireClient.READ_TIMEOUT.toMillis());
        peer.bind(new InetSocketAddress(from, 0));
        peer.connect(new InetSocketAddress(Loopback.V4, port), 5000);
        return peer;
    }

    private static void assertBytesFlowBothWays(WireClient client, Socket peer) throws IOException {
        client.send("'client to peer'");
        assertThat(peer.getInputStream().readNBytes(14)).asString(StandardCharsets.US_ASCII)
                .isEqualTo("client to peer");
        peer.getOutputStream().write("peer to client".getBytes(StandardCharsets.US_ASCII));
        assertThat(client.read(14)).asString(StandardCharsets.US_ASCII).isEqualTo("peer to client");
        peer.shutdownOutput();
        client.socket().shutdownOutput();
        assertThat(client.readToEnd()).isEmpty();
        assertThat(peer.getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void socks5BindRoundTrip() throws IOException {
        WireClient client = teardown.add(WireClient.connect(server));
        int port = socks5Bind(client, "7f 00 00 01");
        Socket peer = peer(Loopback.V4, port);
        assertThat(client.readHex(10)).as("second reply: the peer's address")
                .isEqualTo(Hex.normalized("05 00 00 01 7f 00 00 01 " + WireClient.port(peer.getLocalPort())));
        assertBytesFlowBothWays(client, peer);
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @Test
    void socks4BindRoundTrip() throws IOException {
        WireClient client = teardown.add(WireClient.connect(server));
        int port = socks4Bind(client, "7f 00 00 01");
        Socket peer = peer(Loopback.V4, port);
        assertThat(client.readHex(8))
                .isEqualTo(Hex.normalized("00 5a " + WireClient.port(peer.getLocalPort()) + " 7f 00 00 01"));
        assertBytesFlowBothWays(client, peer);
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @Test
    void bytesTheClientSendsBeforeThePeerArrivesReachThePeer() throws IOException {
        WireClient client = teardown.add(WireClient.connect(server));
        int port = socks5Bind(client, "7f 00 00 01");
        client.send("'early'");
        Socket peer = peer(Loopback.V4, port);
        client.read(10);
        assertThat(peer.getInputStream().readNBytes(5)).asString(StandardCharsets.US_ASCII).isEqualTo("early");
    }

    @Test
    void anyPeerIsAcceptedWhenTheRequestNamesNoAddress() throws IOException {
        WireClient client = teardown.add(WireClient.connect(server));
        int port = socks5Bind(client, "00 00 00 00");
        Socket peer = peer(Loopback.V4_OTHER, port);
        assertThat(client.readHex(10))
                .isEqualTo(Hex.normalized("05 00 00 01 7f 00 00 02 " + WireClient.port(peer.getLocalPort())));
        assertBytesFlowBothWays(client, peer);
    }

    @Test
    void socks5PeerFromAnUnexpectedAddressIsRefused() throws IOException {
        WireClient client = teardown.add(WireClient.connect(server));
        int port = socks5Bind(client, "7f 00 00 01");
        assertTurnedAway(Loopback.V4_OTHER, port);
        assertThat(client.readHex(10)).isEqualTo("05 02 00 01 00 00 00 00 00 00");
        assertThat(client.awaitClose()).isEqualTo("eof");
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @Test
    void socks4PeerFromAnUnexpectedAddressIsRefused() throws IOException {
        WireClient client = teardown.add(WireClient.connect(server));
        int port = socks4Bind(client, "7f 00 00 01");
        assertTurnedAway(Loopback.V4_OTHER, port);
        assertThat(client.readHex(8)).isEqualTo("00 5b 00 00 00 00 00 00");
        assertThat(client.awaitClose()).isEqualTo("eof");
    }

    /**
     * A peer from {@code from} connects and is turned away: reset (which may already fail the connect, the server
     * accepts and resets at once) or closed, never relayed.
     */
    private static void assertTurnedAway(InetAddress from, int port) throws IOException {
        try (Socket intruder = new Socket()) {
            intruder.setSoTimeout((int) WireClient.READ_TIMEOUT.toMillis());
            intruder.bind(new InetSocketAddress(from, 0));
            intruder.connect(new InetSocketAddress(Loopback.V4, port), 5000);
            InputStream in = intruder.getInputStream();
            assertThat(in.read()).isEqualTo(-1);
        } catch (SocketException reset) {
            assertThat(reset).isNotInstanceOf(ConnectException.class);
        }
    }

    @Test
    void theListenerGoesAwayWhenTheClientCloses() throws IOException {
        int port;
        try (WireClient client = WireClient.connect(server)) {
            port = socks5Bind(client, "7f 00 00 01");
        }
        Eventually.noneActive("active connections", server::activeConnections);
        assertThatThrownBy(() -> {
            try (Socket late = new Socket()) {
                late.connect(new InetSocketAddress(Loopback.V4, port), 2000);
            }
        }).isInstanceOf(ConnectException.class);
    }
}
