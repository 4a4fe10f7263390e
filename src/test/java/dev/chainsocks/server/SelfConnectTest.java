package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Hex;
import dev.chainsocks.syntax.Cidr;
import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server refuses to connect to its own listening port, whichever way the client names it, with each protocol's
 * "not allowed" answer: SOCKS5 0x02, SOCKS4 0x5b, HTTP 403. Otherwise a client could nest tunnels through the
 * server inside each other.
 *
 * <p>"Never dialed itself" is proven with the server's own accept count: after the refused requests one more client
 * is served, and the kernel hands connections to the listener in arrival order, so a connection the server had
 * opened to itself would have been accepted, and counted, before that last client.
 */
@Timeout(60)
class SelfConnectTest {

    private static final String SOCKS5_NOT_ALLOWED = "05 02 00 01 00 00 00 00 00 00";
    private static final String SOCKS4_REJECTED = "00 5b 00 00 00 00 00 00";

    private final Teardown teardown = new Teardown();
    private EchoServer echo;

    @BeforeEach
    void setUp() throws IOException {
        echo = teardown.add(EchoServer.start(Loopback.V4));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private SocksServer start(InetAddress listen) throws IOException {
        SocksServerConfig config = SocksServerConfig.loopback()
                .withListen(List.of(new InetSocketAddress(listen, 0)));
        if (listen.isAnyLocalAddress()) {
            // A wildcard listener is not an open proxy here: only this host's loopback clients are served.
            config = config.withAllowFrom(List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")));
        }
        return teardown.add(SocksServer.start(config));
    }

    /** How a test client reaches the server: its own address, or 127.0.0.1 for a wildcard listener. */
    private static InetSocketAddress entry(SocksServer server) {
        InetSocketAddress bound = server.boundAddresses().get(0);
        return bound.getAddress().isAnyLocalAddress() ? new InetSocketAddress(Loopback.V4, bound.getPort()) : bound;
    }

    private static String literal(InetAddress address) {
        String text = address.getHostAddress();
        int scope = text.indexOf('%');
        return scope < 0 ? text : text.substring(0, scope);
    }

    /**
     * Asks for {@code host:port} over every protocol that can carry it and asserts each is refused as not allowed;
     * {@code host} is an IP literal, or a name when {@code byName}. Returns the number of client connections made.
     */
    private static int refusedEverywhere(SocksServer server, String host, boolean byName, int port)
            throws IOException {
        InetAddress ip = byName ? null : InetAddress.getByName(host);
        String portHex = WireClient.port(port);
        int clients = 0;
        String socks5Address = byName
                ? "03 " + Hex.of(new byte[] {(byte) host.length()}) + " '" + host + "' " + portHex
                : WireClient.socks5Address(new InetSocketAddress(ip, port));
        try (WireClient client = WireClient.connect(entry(server))) {
            client.send("05 01 00 05 01 00 " + socks5Address);
            assertThat(client.readHex(2)).isEqualTo("05 00");
            assertThat(client.readHex(10)).as("SOCKS5 CONNECT %s:%d", host, port)
                    .isEqualTo(Hex.normalized(SOCKS5_NOT_ALLOWED));
            assertThat(client.awaitClose()).isEqualTo("eof");
        }
        clients++;
        String socks4 = byName ? "04 01 " + portHex + " 00 00 00 01 00 '" + host + "' 00"
                : ip instanceof Inet4Address ? "04 01 " + portHex + " " + WireClient.ip(ip) + " 00" : null;
        if (socks4 != null) {
            try (WireClient client = WireClient.connect(entry(server))) {
                client.send(socks4);
                assertThat(client.readHex(8)).as("SOCKS4 CONNECT %s:%d", host, port)
                        .isEqualTo(Hex.normalized(SOCKS4_REJECTED));
                assertThat(client.awaitClose()).isEqualTo("eof");
            }
            clients++;
        }
        String authority = (ip instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
        for (String head : List.of("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n",
                "GET http://" + authority + "/ HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")) {
            try (WireClient client = WireClient.connect(entry(server))) {
                client.send(head.getBytes(StandardCharsets.US_ASCII));
                assertThat(client.readToEndAscii()).as(head).startsWith("HTTP/1.1 403 Forbidden\r\n");
            }
            clients++;
        }
        return clients;
    }

    /** A SOCKS5 CONNECT to the echo server, another loopback port: served, one line echoed. */
    private void servedToEcho(SocksServer server) throws IOException {
        try (WireClient client = WireClient.connect(entry(server))) {
            client.send("05 01 00 05 01 00 " + WireClient.socks5Address(echo.address()) + " 'ping'");
            assertThat(client.readHex(4)).isEqualTo("05 00 05 00");
            client.read(8);
            assertThat(client.read(4)).asString().isEqualTo("ping");
        }
    }

    private void assertNeverDialedItself(SocksServer server, int clients) throws IOException {
        int echoedBefore = echo.connections();
        servedToEcho(server);
        assertThat(server.acceptedConnections()).as("only the test's own clients were accepted")
                .isEqualTo(clients + 1);
        assertThat(echo.connections()).isEqualTo(echoedBefore + 1);
        Eventually.noneActive("active connections", server::activeConnections);
    }

    @Test
    void aListenerOnOneAddressRefusesItsOwnAddressAndTheWildcard() throws IOException {
        SocksServer server = start(Loopback.V4);
        int port = server.port();
        int clients = 0;
        clients += refusedEverywhere(server, "127.0.0.1", false, port);
        clients += refusedEverywhere(server, "0.0.0.0", false, port);
        assertNeverDialedItself(server, clients);
    }

    @Test
    void aListenerOnAnotherLoopbackAddressRefusesThatAddress() throws IOException {
        SocksServer server = start(InetAddress.getByName("127.0.0.3"));
        int clients = refusedEverywhere(server, "127.0.0.3", false, server.port());
        assertNeverDialedItself(server, clients);
    }

    @Test
    void theNameLocalhostIsResolvedFirstThenRefused() throws IOException {
        SocksServer server = start(Loopback.localhost());
        int clients = refusedEverywhere(server, "localhost", true, server.port());
        assertNeverDialedItself(server, clients);
    }

    @Test
    void anIpv4WildcardListenerRefusesEveryLocalIpv4Address() throws IOException {
        SocksServer server = start(InetAddress.getByName("0.0.0.0"));
        int port = server.port();
        int clients = 0;
        for (String address : List.of("127.0.0.1", "127.0.0.2", "0.0.0.0")) {
            clients += refusedEverywhere(server, address, false, port);
        }
        for (InetAddress address : interfaceAddresses()) {
            if (address instanceof Inet4Address) {
                clients += refusedEverywhere(server, literal(address), false, port);
            }
        }
        if (Loopback.localhost() instanceof Inet4Address) {
            clients += refusedEverywhere(server, "localhost", true, port);
        }
        assertNeverDialedItself(server, clients);
    }

    @Test
    void anIpv6WildcardListenerRefusesEveryLocalAddressOfBothFamilies() throws IOException {
        Loopback.v6OrSkip();
        SocksServer server = start(InetAddress.getByName("::"));
        int port = server.port();
        int clients = 0;
        for (String address : List.of("::1", "127.0.0.1", "127.0.0.2", "::")) {
            clients += refusedEverywhere(server, address, false, port);
        }
        for (InetAddress address : interfaceAddresses()) {
            clients += refusedEverywhere(server, literal(address), false, port);
        }
        clients += refusedEverywhere(server, "localhost", true, port);
        assertNeverDialedItself(server, clients);
    }

    @Test
    void anotherPortOnTheSameAddressIsServed() throws IOException {
        SocksServer server = start(InetAddress.getByName("0.0.0.0"));
        servedToEcho(server);
        try (WireClient client = WireClient.connect(entry(server))) {
            client.send(("CONNECT 127.0.0.1:" + echo.port() + " HTTP/1.1\r\n\r\nhttp")
                    .getBytes(StandardCharsets.US_ASCII));
            String established = "HTTP/1.1 200 Connection established\r\n\r\n";
            assertThat(new String(client.read(established.length() + 4), StandardCharsets.US_ASCII))
                    .isEqualTo(established + "http");
        }
        try (WireClient client = WireClient.connect(entry(server))) {
            client.send("04 01 " + WireClient.port(echo.port()) + " " + WireClient.ip(Loopback.V4) + " 00 'four'");
            assertThat(client.readHex(2)).isEqualTo("00 5a");
            client.read(6);
            assertThat(client.read(4)).asString().isEqualTo("four");
        }
        assertThat(echo.connections()).isEqualTo(3);
        assertThat(server.acceptedConnections()).isEqualTo(3);
    }

    /**
     * This host's addresses on interfaces that are up, loopback included, so the list is never empty. Link-local
     * IPv6 addresses are left out: without their scope they cannot be connected to at all.
     */
    private static List<InetAddress> interfaceAddresses() throws IOException {
        List<InetAddress> addresses = new ArrayList<>();
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nif.isUp()) {
                continue;
            }
            for (InetAddress address : Collections.list(nif.getInetAddresses())) {
                if (!address.isLinkLocalAddress()) {
                    addresses.add(address);
                }
            }
        }
        assertThat(addresses).as("at least the loopback addresses").isNotEmpty();
        return addresses;
    }
}
