package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * PySocks (Debian's python3-socks) as a SOCKS5 client: a TCP round trip with username/password, and a UDP
 * ASSOCIATE round trip, where PySocks binds its UDP socket, asks the server for a relay naming its own port, and
 * wraps every datagram in the RFC 1928 section 7 header.
 */
@Timeout(60)
class PySocksInteropTest {

    private static final String TCP_SCRIPT = """
            import socket, sys, socks
            proxy_port, user, password, echo_port = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
            s = socks.socksocket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(10)
            s.set_proxy(socks.SOCKS5, "127.0.0.1", proxy_port, rdns=False, username=user or None,
                        password=password or None)
            s.connect(("127.0.0.1", echo_port))
            s.sendall(b"tcp through pysocks and chainsocks")
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            sys.stdout.write(data.decode())
            """;

    private static final String UDP_SCRIPT = """
            import socket, sys, socks
            proxy_port, user, password, echo_port = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
            u = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(10)
            u.set_proxy(socks.SOCKS5, "127.0.0.1", proxy_port, username=user or None, password=password or None)
            u.bind(("127.0.0.1", 0))  # PySocks sends UDP ASSOCIATE here; binding loopback keeps it off the network
            for i in range(3):
                u.sendto(b"udp datagram %d through pysocks" % i, ("127.0.0.1", echo_port))
                data, source = u.recvfrom(65535)
                print("%s from %s:%d" % (data.decode(), source[0], source[1]))
            u.close()
            """;

    private final Teardown teardown = new Teardown();
    private ExternalClient python;

    @BeforeEach
    void setUp() {
        python = ExternalClient.requirePySocks();
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private ExternalClient.Result script(String script, SocksServer server, String user, String password, int port) {
        return python.run(Duration.ofSeconds(30), "-c", script, Integer.toString(server.port()), user, password,
                Integer.toString(port));
    }

    @Test
    void tcpWithUsernameAndPassword() throws IOException {
        EchoServer echo = teardown.add(EchoServer.start(Loopback.V4));
        SocksServer server = teardown.add(SocksServer.start(
                SocksServerConfig.loopback().withUsers(UserList.of(List.of("alice:s3cret")))));
        ExternalClient.Result result = script(TCP_SCRIPT, server, "alice", "s3cret", echo.port()).requireSuccess();
        assertThat(result.stdout()).isEqualTo("tcp through pysocks and chainsocks");
        assertThat(server.acceptedConnections()).isEqualTo(1);
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void tcpWithAWrongPasswordFails() throws IOException {
        EchoServer echo = teardown.add(EchoServer.start(Loopback.V4));
        SocksServer server = teardown.add(SocksServer.start(
                SocksServerConfig.loopback().withUsers(UserList.of(List.of("alice:s3cret")))));
        ExternalClient.Result result = script(TCP_SCRIPT, server, "alice", "secret", echo.port());
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stderr()).contains("SOCKS5 authentication failed");
        assertThat(echo.connections()).isZero();
    }

    @Test
    void udpAssociateRoundTrip() throws IOException {
        udpRoundTrip(SocksServerConfig.loopback(), "", "");
    }

    @Test
    void udpAssociateRoundTripAsAKnownUser() throws IOException {
        udpRoundTrip(SocksServerConfig.loopback().withUsers(UserList.of(List.of("alice:s3cret"))), "alice", "s3cret");
    }

    private void udpRoundTrip(SocksServerConfig config, String user, String password) throws IOException {
        UdpEchoServer echo = teardown.add(UdpEchoServer.start(Loopback.V4));
        SocksServer server = teardown.add(SocksServer.start(config));
        ExternalClient.Result result = script(UDP_SCRIPT, server, user, password, echo.port()).requireSuccess();
        String source = "127.0.0.1:" + echo.port();
        assertThat(result.stdout().lines()).containsExactly(
                "udp datagram 0 through pysocks from " + source,
                "udp datagram 1 through pysocks from " + source,
                "udp datagram 2 through pysocks from " + source);
        assertThat(server.acceptedConnections()).as("one TCP control connection").isEqualTo(1);
        List<UdpEchoServer.Received> received = echo.received();
        assertThat(received).hasSize(3);
        assertThat(new String(received.get(0).payload(), StandardCharsets.US_ASCII))
                .as("the header was stripped on the way out").isEqualTo("udp datagram 0 through pysocks");
        assertThat(received).allSatisfy(datagram ->
                assertThat(datagram.sender()).as("all from the server's one relay socket")
                        .isEqualTo(received.get(0).sender()));
        Eventually.noneActive("active connections", server::activeConnections);
    }
}
