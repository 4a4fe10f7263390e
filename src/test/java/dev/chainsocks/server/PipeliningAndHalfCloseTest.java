package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.testsupport.EchoServer;
import dev.chainsocks.testsupport.Eventually;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients that do not wait for each answer before sending on (early data must reach the destination, in order),
 * and clients that shut down their sending side and keep reading (the server must pass the half-close on and
 * still deliver everything coming back).
 */
@Timeout(60)
class PipeliningAndHalfCloseTest {

    private final Teardown teardown = new Teardown();
    private PageServer page;
    private EchoServer echo;
    private SocksServer server;

    @BeforeEach
    void setUp() throws IOException {
        page = teardown.add(PageServer.start(Loopback.V4));
        echo = teardown.add(EchoServer.start(Loopback.V4));
        server = teardown.add(SocksServer.start(SocksServerConfig.loopback()));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private String get() {
        return "'GET " + PageServer.PATH + " HTTP/1.1' 0d 0a 'Host: 127.0.0.1:" + page.port()
                + "' 0d 0a 'Connection: close' 0d 0a 0d 0a";
    }

    private static void assertPageResponse(String response) {
        assertThat(response).startsWith("HTTP/1.1 200 ");
        assertThat(response.substring(response.indexOf("\r\n\r\n") + 4)).isEqualTo(PageServer.PAGE);
    }

    @Test
    void socks5GreetingRequestAndHttpGetInOneWrite() throws IOException {
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00 05 01 00 " + WireClient.socks5Address(page.address()) + " " + get());
            assertThat(client.readHex(6)).isEqualTo("05 00 05 00 00 01");
            client.read(6);
            assertPageResponse(client.readToEndAscii());
        }
        assertThat(page.requests()).hasSize(1);
    }

    @Test
    void socks5WithPasswordAuthenticationAllInOneWrite() throws IOException {
        SocksServer withUsers = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withUsers(UserList.of(List.of("alice:s3cret")))));
        try (WireClient client = WireClient.connect(withUsers)) {
            client.send("05 01 02 01 05 'alice' 06 's3cret' 05 01 00 " + WireClient.socks5Address(page.address())
                    + " " + get());
            assertThat(client.readHex(8)).isEqualTo("05 02 01 00 05 00 00 01");
            client.read(6);
            assertPageResponse(client.readToEndAscii());
        }
    }

    @Test
    void socks4aRequestAndHttpGetInOneWrite() throws IOException {
        PageServer byName = Loopback.localhost().equals(Loopback.V4) ? page
                : teardown.add(PageServer.start(Loopback.localhost()));
        try (WireClient client = WireClient.connect(server)) {
            client.send("04 01 " + WireClient.port(byName.port()) + " 00 00 00 01 'bob' 00 'localhost' 00 " + get());
            assertThat(client.readHex(2)).isEqualTo("00 5a");
            client.read(6);
            assertPageResponse(client.readToEndAscii());
        }
        assertThat(byName.requests()).hasSize(1);
    }

    @Test
    void httpConnectAndTheTunnelledRequestInOneWrite() throws IOException {
        try (WireClient client = WireClient.connect(server)) {
            client.send("'CONNECT 127.0.0.1:" + page.port() + " HTTP/1.1' 0d 0a 'Host: 127.0.0.1:" + page.port()
                    + "' 0d 0a 0d 0a " + get());
            String all = client.readToEndAscii();
            String established = "HTTP/1.1 200 Connection established\r\n\r\n";
            assertThat(all).startsWith(established);
            assertPageResponse(all.substring(established.length()));
        }
    }

    @Test
    void httpForwardKeepsTheRequestBodySentWithTheHead() throws IOException {
        // The echo server stands in for the origin: what comes back is exactly what the proxy forwarded.
        try (WireClient client = WireClient.connect(server)) {
            client.send("'POST http://127.0.0.1:" + echo.port() + "/form HTTP/1.1' 0d 0a 'Host: wrong.example' 0d 0a"
                    + " 'Content-Length: 11' 0d 0a 'Proxy-Connection: keep-alive' 0d 0a 0d 0a 'hello=world'");
            client.socket().shutdownOutput();
            String forwarded = client.readToEndAscii();
            assertThat(forwarded).startsWith("POST /form HTTP/1.1\r\n")
                    .contains("\r\nHost: 127.0.0.1:" + echo.port() + "\r\n")
                    .contains("\r\nContent-Length: 11\r\n")
                    .contains("\r\nConnection: close\r\n")
                    .doesNotContain("wrong.example")
                    .doesNotContainIgnoringCase("Proxy-Connection")
                    .endsWith("\r\n\r\nhello=world");
        }
    }

    @Test
    void halfCloseThroughTheServerStillDeliversTheWholeEcho() throws Exception {
        byte[] payload = new byte[1 << 20];
        new Random(7).nextBytes(payload);
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00 05 01 00 " + WireClient.socks5Address(echo.address()));
            assertThat(client.readHex(6)).isEqualTo("05 00 05 00 00 01");
            client.read(6);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = client.socket().getOutputStream();
                    out.write(payload);
                    out.flush();
                    client.socket().shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] echoed = client.readToEnd();
            writer.get(10, TimeUnit.SECONDS);
            assertThat(echoed.length).isEqualTo(payload.length);
            assertThat(echoed).isEqualTo(payload);
        }
        Eventually.noneActive("active connections", server::activeConnections);
        assertThat(echo.brokenConnections()).as("the echo side saw a clean EOF, not a reset").isZero();
    }

    @Test
    void halfCloseRightAfterTheRequestStillGetsTheAnswer() throws IOException {
        try (WireClient client = WireClient.connect(server)) {
            client.send("05 01 00 05 01 00 " + WireClient.socks5Address(echo.address()) + " 'last words'");
            client.socket().shutdownOutput();
            assertThat(client.readHex(6)).isEqualTo("05 00 05 00 00 01");
            client.read(6);
            assertThat(new String(client.readToEnd(), StandardCharsets.US_ASCII)).isEqualTo("last words");
        }
        Eventually.noneActive("active connections", server::activeConnections);
    }
}
