package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Hex;
import dev.chainsocks.proto.Socks4Policy;
import dev.chainsocks.proto.ident.IdentCodec;
import dev.chainsocks.proto.ident.IdentErrorType;
import dev.chainsocks.proto.ident.IdentQuery;
import dev.chainsocks.proto.ident.IdentResponse;
import dev.chainsocks.syntax.Cidr;
import dev.chainsocks.testsupport.EchoServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --socks4-identd} on loopback against a small identd run by the test. The server, its client and the identd
 * sit on three different loopback addresses, so the test also proves where the question goes (the client's address,
 * the configured port) and where it comes from (the address the client reached the server on), and that the port
 * pair is the client connection's. Refusals are proven to dial nothing: the echo server counts only granted requests.
 */
@Timeout(30)
class Socks4IdentdTest {

    private static final InetAddress SERVER = address("127.0.0.2");
    private static final InetAddress CLIENT = address("127.0.0.3");
    private static final Duration IDENTD_TIMEOUT = Duration.ofMillis(500);

    private final Teardown teardown = new Teardown();
    private EchoServer echo;

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        echo = teardown.add(EchoServer.start(Loopback.V4));
    }

    @AfterEach
    void tearDown() throws Exception {
        teardown.close();
    }

    private SocksServer start(int identdPort) throws IOException {
        return teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withListen(List.of(new InetSocketAddress(SERVER, 0)))
                .withUsers(UserList.of(List.of("alice:s3cret")).withSocks4Policy(Socks4Policy.IDENTD))
                .withIdentd(new IdentdCheck(identdPort, IDENTD_TIMEOUT))));
    }

    private String connect(String userId) {
        return "04 01 " + WireClient.port(echo.port()) + " " + WireClient.ip(Loopback.V4) + " '" + userId + "' 00";
    }

    /** Sends a SOCKS4 CONNECT from {@link #CLIENT}, returns the 8-byte reply and the client's port. */
    private static Answer ask(SocksServer server, String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(CLIENT, 0));
            socket.connect(server.boundAddresses().get(0), 5000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(Hex.bytes(request + " 'ping'"));
            byte[] reply = socket.getInputStream().readNBytes(8);
            byte[] echoed = socket.getInputStream().readNBytes(4);
            return new Answer(Hex.of(reply).substring(0, 5), new String(echoed, java.nio.charset.StandardCharsets.US_ASCII),
                    socket.getLocalPort());
        }
    }

    record Answer(String code, String echoed, int clientPort) {
    }

    @Test
    void confirmedUserIsGrantedAndTheQueryNamesTheClientsConnection() throws IOException {
        FakeIdentd identd = teardown.add(FakeIdentd.start(CLIENT,
                query -> new IdentResponse.UserId(query, "UNIX", null, "alice")));
        SocksServer server = start(identd.port());
        Answer answer = ask(server, connect("alice"));
        assertThat(answer.code()).isEqualTo("00 5a");
        assertThat(answer.echoed()).as("the granted request relays").isEqualTo("ping");
        assertThat(identd.queries()).containsExactly(new IdentQuery(answer.clientPort(), server.port()));
        assertThat(identd.askers()).as("asked from the address the client reached").containsExactly(SERVER);
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void identdNamingAnotherUserOrAnErrorIs0x5dAndNothingIsDialed() throws IOException {
        FakeIdentd bob = teardown.add(FakeIdentd.start(CLIENT,
                query -> new IdentResponse.UserId(query, "UNIX", null, "bob")));
        SocksServer server = start(bob.port());
        assertThat(ask(server, connect("alice")).code()).isEqualTo("00 5d");
        assertThat(bob.queries()).hasSize(1);

        FakeIdentd error = teardown.add(FakeIdentd.start(CLIENT,
                query -> new IdentResponse.Error(query, IdentErrorType.NO_USER)));
        assertThat(ask(start(error.port()), connect("alice")).code()).isEqualTo("00 5d");
        assertThat(error.queries()).hasSize(1);

        FakeIdentd other = teardown.add(FakeIdentd.start(CLIENT,
                query -> new IdentResponse.UserId(query, "UNIX", null, "alice")));
        SocksServer otherServer = start(other.port());
        assertThat(ask(otherServer, connect("mallory")).code()).as("an unknown user is refused before identd")
                .isEqualTo("00 5b");
        assertThat(other.queries()).isEmpty();
        assertThat(echo.connections()).as("no refused request reached the destination").isZero();
        assertThat(ask(otherServer, connect("alice")).code()).isEqualTo("00 5a");
        assertThat(echo.connections()).isEqualTo(1);
    }

    @Test
    void aClientOutsideAllowFromIsRefusedWithoutAQueryToItsHost() throws IOException {
        FakeIdentd identd = teardown.add(FakeIdentd.start(CLIENT,
                query -> new IdentResponse.UserId(query, "UNIX", null, "alice")));
        SocksServer server = teardown.add(SocksServer.start(SocksServerConfig.loopback()
                .withListen(List.of(new InetSocketAddress(SERVER, 0)))
                .withUsers(UserList.of(List.of("alice:s3cret")).withSocks4Policy(Socks4Policy.IDENTD))
                .withAllowFrom(List.of(Cidr.parse("127.0.0.9/32")))
                .withIdentd(new IdentdCheck(identd.port(), IDENTD_TIMEOUT))));
        assertThat(ask(server, connect("alice")).code()).isEqualTo("00 5b");
        assertThat(identd.queries()).as("no ident query on behalf of a client that is not admitted").isEmpty();
        assertThat(echo.connections()).isZero();
    }

    @Test
    void identdUnreachableOrSilentIs0x5c() throws IOException {
        try (Socket holder = new Socket()) {
            holder.bind(new InetSocketAddress(CLIENT, 0)); // a port that is taken and refuses connections
            assertThat(ask(start(holder.getLocalPort()), connect("alice")).code()).isEqualTo("00 5c");
        }
        FakeIdentd silent = teardown.add(FakeIdentd.start(CLIENT, query -> null));
        long started = System.nanoTime();
        assertThat(ask(start(silent.port()), connect("alice")).code()).isEqualTo("00 5c");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("answered at the identd deadline")
                .isGreaterThanOrEqualTo(IDENTD_TIMEOUT).isLessThan(Duration.ofSeconds(4));
        assertThat(silent.queries()).hasSize(1);
        assertThat(echo.connections()).isZero();
    }

    /**
     * An identd that reads one query per connection and answers what {@code answer} makes of it, or holds the
     * connection open without a word when that is null. Failures in its thread are rethrown by {@link #close}.
     */
    static final class FakeIdentd implements AutoCloseable {
        private final ServerSocket listener;
        private final Function<IdentQuery, IdentResponse> answer;
        private final List<IdentQuery> queries = new CopyOnWriteArrayList<>();
        private final List<InetAddress> askers = new CopyOnWriteArrayList<>();
        private final List<Socket> held = new CopyOnWriteArrayList<>();
        private final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private final Thread thread;

        private FakeIdentd(ServerSocket listener, Function<IdentQuery, IdentResponse> answer) {
            this.listener = listener;
            this.answer = answer;
            this.thread = new Thread(this::serve, "fake-identd");
            thread.setDaemon(true);
        }

        static FakeIdentd start(InetAddress address, Function<IdentQuery, IdentResponse> answer) throws IOException {
            FakeIdentd identd = new FakeIdentd(new ServerSocket(0, 8, address), answer);
            identd.thread.start();
            return identd;
        }

        int port() {
            return listener.getLocalPort();
        }

        List<IdentQuery> queries() {
            return queries;
        }

        List<InetAddress> askers() {
            return askers;
        }

        private void serve() {
            while (!listener.isClosed()) {
                try {
                    Socket socket = listener.accept();
                    held.add(socket);
                    askers.add(socket.getInetAddress());
                    IdentQuery query = readQuery(socket.getInputStream());
                    queries.add(query);
                    IdentResponse response = answer.apply(query);
                    if (response != null) {
                        ByteBuffer bytes = IdentCodec.encodeResponse(response);
                        socket.getOutputStream().write(bytes.array(), bytes.arrayOffset() + bytes.position(),
                                bytes.remaining());
                        socket.close();
                    }
                } catch (IOException e) {
                    if (!listener.isClosed()) {
                        failures.add(e);
                    }
                } catch (RuntimeException | AssertionError e) {
                    failures.add(e);
                }
            }
        }

        private static IdentQuery readQuery(InputStream in) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("asker closed before a whole query");
                }
                line.write(b);
                if (b == '\n') {
                    Decoded<IdentQuery> decoded = IdentCodec.decodeQuery(ByteBuffer.wrap(line.toByteArray()));
                    assertThat(decoded).isInstanceOf(Decoded.Message.class);
                    return ((Decoded.Message<IdentQuery>) decoded).message();
                }
            }
        }

        @Override
        public void close() throws Exception {
            listener.close();
            for (Socket socket : held) {
                socket.close();
            }
            thread.join(5000);
            if (!failures.isEmpty()) {
                AssertionError error = new AssertionError("fake identd failed: " + failures.get(0), failures.get(0));
                failures.stream().skip(1).forEach(error::addSuppressed);
                throw error;
            }
        }
    }
}
