package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_V6;
import static dev.chainsocks.e2e.GatewayTopology.GW_WAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.WAN_HOSTNAME;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Curl;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import dev.chainsocks.e2e.Tinyproxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Names reach a last hop that accepts nothing else. The last hop is tinyproxy in {@code wan} with a filter that
 * admits only {@code web.test} and {@code web6.test} ({@code FilterDefaultDeny Yes}): a CONNECT to an address is
 * refused ({@code 403}, logged as {@code Proxying refused on filtered domain}), and no reverse lookup turns an
 * address back into an admitted name. Only {@code wan} can resolve the names.
 *
 * <ul>
 *   <li>{@code recover-name = "sni-host"}: a client in {@code lan} connects to the web server's address, IPv4 or
 *       IPv6, over HTTP (Host header) or HTTPS (TLS server name). Without recovery tinyproxy refuses the
 *       address; with it tinyproxy is asked for the name and the file arrives with the same SHA-256.
 *   <li>{@code upstream-via-chain}: the resolver for {@code corp.test} sits on an address only {@code wan} can
 *       reach; chainsocks' DNS forwards to it through the chain, and a capture on gw's WAN side has no packet to or
 *       from port 53 or the resolver, only the connection to the hop.
 *   <li>{@code chainsocks rules}: with {@code [dns]}, a {@code lan} client asking some other server (an address
 *       nothing listens on) gets chainsocks' answer, over UDP and TCP, IPv4 and IPv6, with both backends, and a
 *       reverse lookup of the fake address gets the name; after {@code --down} the same query goes unanswered.
 *   <li>The same in local mode, with a second chainsocks in {@code lan} itself: its own forwarded queries (UDP to a
 *       resolver in wan, port 53) carry {@code [service] mark}, so the port-53 rules let them out instead of
 *       sending them back to it.
 * </ul>
 */
@Tag("e2e")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NamesOnlyProxyE2E {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final int HTTP_PORT = 8080;
    private static final int TLS_PORT = 8443;
    private static final int TINYPROXY_PORT = 3128;
    /** The listeners: the first is what {@code chainsocks rules} redirects to. */
    private static final int SOCKS_LISTENER = 12345;
    private static final int PLAIN_LISTENER = 12346;
    private static final int RECOVER_LISTENER = 12347;
    private static final String WAN_HOSTNAME_V6 = "web6.test";
    /** The resolver for {@code corp.test}: on wan's loopback interface, a network gw has no route to. */
    private static final String RESOLVER = "198.19.3.53";
    private static final String CORP_NAME = "intranet.corp.test";
    private static final String CORP_ADDRESS = "198.19.2.77";
    private static final String REFUSED = "Proxying refused on filtered domain";
    private static final long FILE_BYTES = 1 << 20;
    private static final String[] ALLOW_TEST_NETWORKS = {"--allow-from", "198.18.0.0/15", "--allow-from", "fd00::/8"};

    private static GatewayTopology topology;
    private static TestWorkspace workspace;
    private static HttpFileServer web;
    private static String tlsFileSha256;
    private static ManagedProcess tlsServer;
    private static ManagedProcess resolver;
    /** The same resolver program on wan's own address, for a chainsocks that forwards over UDP. */
    private static ManagedProcess wanResolver;
    private static Tinyproxy tinyproxy;
    private static BundledHop hop;
    private static ChainsocksProcess redirector;
    private static ManagedProcess capture;
    private static Path pcap;
    private static Path config;

    @BeforeAll
    static void start() {
        Prerequisites.require("iptables", "ip6tables", "nft", "curl", "dig", "tcpdump", "ss", "tinyproxy",
                "openssl");
        workspace = TestWorkspace.forTest("NamesOnlyProxyE2E");
        topology = GatewayTopology.create(workspace);
        topology.wan().addHost(WAN_HOSTNAME_V6, WAN_V6);
        topology.wan().exec("ip", "addr", "add", RESOLVER + "/32", "dev", "lo");

        web = HttpFileServer.start(topology.wan(), HTTP_PORT, FILE_BYTES);
        tlsServer = startTlsServer();
        resolver = topology.wan().spawn("resolver", Prerequisites.PYTHON, "-u", "-c", RESOLVER_SCRIPT, RESOLVER,
                "53", CORP_ADDRESS);
        resolver.awaitLogLine("answering on " + RESOLVER, LOG_WAIT);
        wanResolver = topology.wan().spawn("wan-resolver", Prerequisites.PYTHON, "-u", "-c", RESOLVER_SCRIPT, WAN_V4,
                "53", CORP_ADDRESS);
        wanResolver.awaitLogLine("answering on " + WAN_V4, LOG_WAIT);

        Path filter = workspace.writeFile(workspace.newDirectory("tinyproxy-filter"), "filter",
                "^web\\.test$\n^web6\\.test$\n");
        tinyproxy = Tinyproxy.start(topology.wan(), Endpoint.of(WAN_V4, TINYPROXY_PORT), null,
                List.of("Filter \"" + filter + "\"", "FilterDefaultDeny Yes"));
        hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), null, ALLOW_TEST_NETWORKS)
                .awaitListening();

        pcap = workspace.newDirectory("capture").resolve("gw-wan.pcap");
        capture = topology.gw().spawn("tcpdump", "tcpdump", "-i", GW_WAN_IF, "-n", "-U", "--immediate-mode",
                "-s", "128", "-w", pcap.toString());
        capture.awaitLogLine("listening on " + GW_WAN_IF, LOG_WAIT);

        String names = "http://" + Endpoint.of(WAN_V4, TINYPROXY_PORT);
        String toml = new RedirectorConfig()
                .exempt("10.0.0.0/8", "127.0.0.0/8", "::1/128", "fe80::/10")
                .strictListener("[::]:" + SOCKS_LISTENER, "main")
                .strictListener("[::]:" + PLAIN_LISTENER, "names")
                .chain("main", hop.uri("socks5"))
                .chain("names", names)
                .toml()
                + "\n[[listener]]\nlisten = \"[::]:" + RECOVER_LISTENER + "\"\nchains = [\"names\"]\n"
                + "policy = \"strict\"\nrecover-name = \"sni-host\"\n"
                + "\n[dns]\nlisten = [\"" + GW_LAN_V4 + ":53\", \"[" + GW_LAN_V6 + "]:53\"]\n"
                + "direct = [\"corp.test\"]\nupstream = \"" + RESOLVER + ":53\"\nupstream-via-chain = \"main\"\n";
        config = workspace.writeFile(workspace.newDirectory("config"), "names.toml", toml);
        redirector = ChainsocksProcess.start(topology.gw(), "run", "run", "--config", config.toString());
        for (int port : new int[] {SOCKS_LISTENER, PLAIN_LISTENER, RECOVER_LISTENER}) {
            redirector.waitForPort("::", port);
        }
        redirector.waitForPort(GW_LAN_V4, 53);
        redirector.waitForPort(GW_LAN_V6, 53);
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    /** An HTTPS file server (python3 ssl) on every address of wan; logs the server name of each ClientHello. */
    private static ManagedProcess startTlsServer() {
        Path tls = workspace.newDirectory("tls");
        Path www = workspace.newDirectory("tls-www");
        tlsFileSha256 = writeRandomFile(www.resolve("big.bin"), FILE_BYTES, 7);
        topology.wan().exec("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + WAN_HOSTNAME,
                "-days", "1", "-keyout", tls.resolve("key.pem").toString(), "-out", tls.resolve("cert.pem").toString());
        return topology.wan().spawnListening("tls-server", Endpoint.of("::", TLS_PORT), List.of(Prerequisites.PYTHON,
                "-u", "-c", TLS_SERVER_SCRIPT, String.valueOf(TLS_PORT), www.toString(),
                tls.resolve("cert.pem").toString(), tls.resolve("key.pem").toString()));
    }

    private static final String TLS_SERVER_SCRIPT = """
            import functools, http.server, socket, ssl, sys
            port, directory, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            class Server(http.server.ThreadingHTTPServer):
                address_family = socket.AF_INET6
                def server_bind(self):
                    self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    super().server_bind()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            def server_name(sock, name, ctx):
                print("client hello server_name=%s" % name, flush=True)
            context.sni_callback = server_name
            server = Server(("::", port), functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory))
            server.socket = context.wrap_socket(server.socket, server_side=True)
            server.serve_forever()
            """;

    /**
     * A DNS server for one name over UDP and TCP: A queries get the address given, other types an empty answer. It
     * logs each question, so a test sees that a query arrived and by which transport.
     */
    private static final String RESOLVER_SCRIPT = """
            import socket, struct, sys, threading
            address, port, answer = sys.argv[1], int(sys.argv[2]), sys.argv[3]
            def reply(query, transport):
                tid = struct.unpack(">H", query[:2])[0]
                i, labels = 12, []
                while query[i]:
                    labels.append(query[i + 1:i + 1 + query[i]].decode())
                    i += query[i] + 1
                qtype = struct.unpack(">H", query[i + 1:i + 3])[0]
                question = query[12:i + 5]
                print("question %s type=%d over %s" % (".".join(labels), qtype, transport), flush=True)
                records = b""
                if qtype == 1:
                    records = b"\\xc0\\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(answer)
                return struct.pack(">HHHHHH", tid, 0x8180, 1, 1 if records else 0, 0, 0) + question + records
            def serve_tcp(listener):
                while True:
                    conn, _ = listener.accept()
                    with conn:
                        stream = conn.makefile("rb")
                        while True:
                            head = stream.read(2)
                            if len(head) < 2:
                                break
                            response = reply(stream.read(struct.unpack(">H", head)[0]), "tcp")
                            conn.sendall(struct.pack(">H", len(response)) + response)
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((address, port))
            tcp.listen(16)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((address, port))
            threading.Thread(target=serve_tcp, args=(tcp,), daemon=True).start()
            print("answering on %s:%d" % (address, port), flush=True)
            while True:
                data, peer = udp.recvfrom(4096)
                udp.sendto(reply(data, "udp"), peer)
            """;

    private static String writeRandomFile(Path file, long size, long seed) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Random random = new Random(seed);
            byte[] chunk = new byte[8192];
            try (var out = Files.newOutputStream(file)) {
                for (long written = 0; written < size; written += chunk.length) {
                    random.nextBytes(chunk);
                    out.write(chunk);
                    sha.update(chunk);
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends lan's TCP to one listener; DNS to gw itself stays with chainsocks' DNS. */
    private static void redirectLanTo(int port) {
        topology.clearRedirects();
        topology.gw().execScript(String.join("\n",
                "iptables -t nat -A PREROUTING -i " + GW_LAN_IF + " -d " + GW_LAN_V4 + " -p tcp --dport 53 -j RETURN",
                "ip6tables -t nat -A PREROUTING -i " + GW_LAN_IF + " -d " + GW_LAN_V6
                        + " -p tcp --dport 53 -j RETURN"));
        topology.redirectLanTcp(port);
    }

    /** One way a client names the server: HTTP with a Host header, or HTTPS with a TLS server name. */
    private record Fetch(String label, String scheme, int port, String name, String address, String sha256) {

        String url() {
            return scheme + "://" + name + ":" + port + HttpFileServer.BIG_PATH;
        }

        /** curl resolves the name to the address itself, so the connection carries only the address. */
        String[] options() {
            String to = address.contains(":") ? "[" + address + "]" : address;
            return new String[] {"--resolve", name + ":" + port + ":" + to, "--insecure"};
        }

        @Override
        public String toString() {
            return label;
        }
    }

    static Stream<Arguments> fetches() {
        return Stream.of(
                Arguments.of(new Fetch("HTTP Host, IPv4", "http", HTTP_PORT, WAN_HOSTNAME, WAN_V4, null)),
                Arguments.of(new Fetch("HTTP Host, IPv6", "http", HTTP_PORT, WAN_HOSTNAME_V6, WAN_V6, null)),
                Arguments.of(new Fetch("TLS server name, IPv4", "https", TLS_PORT, WAN_HOSTNAME, WAN_V4, "tls")),
                Arguments.of(new Fetch("TLS server name, IPv6", "https", TLS_PORT, WAN_HOSTNAME_V6, WAN_V6, "tls")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fetches")
    @Order(1)
    void theNamesOnlyProxyRefusesTheAddressAndAcceptsTheRecoveredName(Fetch fetch) {
        String expectedSha = fetch.sha256() == null ? web.bigSha256() : tlsFileSha256;
        String literal = fetch.address();

        redirectLanTo(PLAIN_LISTENER);
        long refusedBefore = tinyproxy.process().countLogLines(REFUSED + " \"" + literal + "\"");
        Command.Result plain = Curl.run(topology.lan(), fetch.url(), fetch.options());
        assertThat(plain.succeeded()).as("without recovery: " + plain).isFalse();
        tinyproxy.process().awaitLogLines(line -> line.contains(REFUSED + " \"" + literal + "\""),
                (int) refusedBefore + 1, LOG_WAIT);

        redirectLanTo(RECOVER_LISTENER);
        String connect = "CONNECT " + fetch.name() + ":" + fetch.port() + " ";
        long connectsBefore = tinyproxy.process().countLogLines(connect);
        Path file = workspace.newDirectory("download").resolve("big.bin");
        Curl.download(topology.lan(), fetch.url(), file, fetch.options());
        assertThat(sha256(file)).as("the file, unaltered").isEqualTo(expectedSha);
        assertThat(tinyproxy.process().awaitLogLines(line -> line.contains(connect), (int) connectsBefore + 1,
                LOG_WAIT)).as("tinyproxy was asked for the name").isNotEmpty();
        if (fetch.sha256() != null) {
            tlsServer.awaitLogLine("client hello server_name=" + fetch.name(), LOG_WAIT);
        }
        redirector.awaitLogLines(line -> AccessLogLines.isEnd(line)
                && line.contains(" dst=" + fetch.name() + ":" + fetch.port() + " ") && line.contains("outcome=ok"),
                1, LOG_WAIT);
    }

    /** DNS over TCP through the chain to a resolver gw cannot reach; nothing DNS-shaped on gw's WAN side. */
    @Test
    @Order(2)
    void forwardedQueriesReachAResolverOnlyTheChainCanReach() {
        assertThat(topology.gw().run(Command.DEFAULT_TIMEOUT, "ip", "route", "get", RESOLVER).succeeded())
                .as("gw has no route to the resolver").isFalse();
        topology.clearRedirects();
        int before = hop.sessionCount();
        String answer = topology.lan().run(Command.DEFAULT_TIMEOUT, "dig", "+short", "+tries=1", "+time=5",
                "@" + GW_LAN_V4, CORP_NAME, "A").requireSuccess().stdout().strip();
        assertThat(answer).as("the resolver's answer, passed back").isEqualTo(CORP_ADDRESS);
        assertThat(hop.awaitOneNewSession(before)).as("the hop was asked for the resolver")
                .contains(" dst=" + RESOLVER + ":53 ");
        resolver.awaitLogLine("question " + CORP_NAME + " type=1 over tcp", LOG_WAIT);

        // the capture has the connection to the hop (each look runs tcpdump -r on the growing file) ...
        String toHop = "src host " + GatewayTopology.GW_WAN_V4 + " and dst host " + WAN_V4 + " and tcp dst port 1080";
        long deadline = System.nanoTime() + LOG_WAIT.toNanos();
        while (packets(toHop).isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(packets(toHop)).as("the connection to the hop").isNotEmpty();
        // ... and nothing to or from port 53 or the resolver
        assertThat(packets("port 53 or host " + RESOLVER)).as("DNS packets on gw's WAN side").isEmpty();
    }

    /**
     * The rules {@code chainsocks rules} prints for this configuration send lan's DNS to chainsocks' DNS, whatever
     * server lan asks: here addresses where nothing runs. After {@code --down} the same query goes unanswered.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"iptables", "nft"})
    @Order(3)
    void generatedRulesSendLanDnsToChainsocks(String backend) {
        topology.clearRedirects();
        String up = rules(topology.gw(), config, backend, "--mode", "gateway", "--lan-iface", GW_LAN_IF);
        String down = rules(topology.gw(), config, backend, "--mode", "gateway", "--lan-iface", GW_LAN_IF, "--down");
        String elsewhere = "198.18.200.1";
        String elsewhereV6 = "fd00:9::53";
        try {
            apply(topology.gw(), backend, up);
            String v4 = dig(elsewhere, WAN_HOSTNAME, "A").requireSuccess().stdout().strip();
            assertThat(v4).as("a fake address from chainsocks").startsWith("100.");
            assertThat(dig(elsewhere, WAN_HOSTNAME, "A", "+tcp").requireSuccess().stdout().strip()).isEqualTo(v4);
            assertThat(dig(elsewhereV6, WAN_HOSTNAME_V6, "AAAA").requireSuccess().stdout().strip())
                    .startsWith("64:ff9b:1:");
            assertThat(dig(elsewhereV6, WAN_HOSTNAME_V6, "AAAA", "+tcp").requireSuccess().stdout().strip())
                    .startsWith("64:ff9b:1:");
            assertThat(dig(elsewhere, "-x", v4).requireSuccess().stdout().strip()).as("PTR of the fake address")
                    .isEqualTo(WAN_HOSTNAME + ".");
            // and the fake address works through the same rules: the hop is asked for the name
            int before = hop.sessionCount();
            assertThat(Curl.get(topology.lan(), "http://" + v4 + ":" + HTTP_PORT + HttpFileServer.PAGE_PATH))
                    .isEqualTo(web.page());
            assertThat(hop.awaitOneNewSession(before)).contains(" dst=" + WAN_HOSTNAME + ":" + HTTP_PORT + " ");
        } finally {
            apply(topology.gw(), backend, down);
        }
        assertThat(topology.gw().exec("iptables-save", "-t", "nat") + topology.gw().exec("ip6tables-save", "-t",
                "nat") + topology.gw().exec("nft", "list", "ruleset")).doesNotContainIgnoringCase("chainsocks");
        Command.Result unanswered = dig(elsewhere, WAN_HOSTNAME, "A");
        assertThat(unanswered.succeeded() && !unanswered.stdout().isBlank())
                .as("after --down nobody answers at " + elsewhere + ": " + unanswered).isFalse();
    }

    /**
     * Local mode in {@code lan}: a chainsocks there with {@code [service] mark}, {@code [dns]} on loopback and
     * {@code direct} names forwarded over UDP to a resolver in wan. With the rules {@code chainsocks rules --mode
     * local} prints, lan's own programs asking any server get its answers, and its forwarded query reaches the
     * resolver: the mark lets it past the port-53 rule that would otherwise send it back to chainsocks.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"iptables", "nft"})
    @Order(4)
    void generatedLocalRulesSendThisHostsDnsToChainsocksAndLetItsOwnQueriesOut(String backend) {
        topology.clearRedirects();
        ChainsocksProcess local = startLocalChainsocks();
        try {
            String up = rules(topology.lan(), localConfig, backend, "--mode", "local");
            String down = rules(topology.lan(), localConfig, backend, "--mode", "local", "--down");
            assertThat(up).contains(backend.equals("nft") ? "meta mark 0x2a return" : "-m mark --mark 0x2a -j RETURN");
            try {
                apply(topology.lan(), backend, up);
                String v4 = dig("198.18.200.1", WAN_HOSTNAME, "A").requireSuccess().stdout().strip();
                assertThat(v4).as("a fake address from the local chainsocks").startsWith("100.");
                assertThat(dig("fd00:9::53", WAN_HOSTNAME_V6, "AAAA", "+tcp").requireSuccess().stdout().strip())
                        .startsWith("64:ff9b:1:");
                long asked = wanResolver.countLogLines("question " + CORP_NAME + " type=1 over udp");
                assertThat(dig("198.18.200.1", CORP_NAME, "A").requireSuccess().stdout().strip())
                        .as("a direct name, forwarded over UDP past the port-53 rules").isEqualTo(CORP_ADDRESS);
                wanResolver.awaitLogLines(line -> line.contains("question " + CORP_NAME + " type=1 over udp"),
                        (int) asked + 1, LOG_WAIT);
                int before = hop.sessionCount();
                assertThat(Curl.get(topology.lan(), "http://" + v4 + ":" + HTTP_PORT + HttpFileServer.PAGE_PATH))
                        .isEqualTo(web.page());
                assertThat(hop.awaitOneNewSession(before)).contains(" dst=" + WAN_HOSTNAME + ":" + HTTP_PORT + " ");
            } finally {
                apply(topology.lan(), backend, down);
            }
        } finally {
            local.stop();
        }
    }

    private static Path localConfig;

    private static ChainsocksProcess startLocalChainsocks() {
        if (localConfig == null) {
            String toml = new RedirectorConfig()
                    .mark(0x2a)
                    .exempt("10.0.0.0/8", "127.0.0.0/8", "::1/128", "fe80::/10")
                    .strictListener("[::]:" + SOCKS_LISTENER, "main")
                    .chain("main", hop.uri("socks5"))
                    .toml()
                    + "\n[dns]\nlisten = [\"127.0.0.53:53\", \"[::1]:53\"]\ndirect = [\"corp.test\"]\n"
                    + "upstream = \"" + WAN_V4 + ":53\"\n";
            localConfig = workspace.writeFile(workspace.newDirectory("local-config"), "local.toml", toml);
        }
        ChainsocksProcess local = ChainsocksProcess.start(topology.lan(), "local", "run", "--config",
                localConfig.toString());
        local.waitForPort("::", SOCKS_LISTENER);
        local.waitForPort("127.0.0.53", 53);
        local.waitForPort("::1", 53);
        return local;
    }

    private static Command.Result dig(String server, String name, String type, String... options) {
        List<String> command = new ArrayList<>(List.of("dig", "+short", "+tries=1", "+time=2", "@" + server, name,
                type));
        command.addAll(List.of(options));
        return topology.lan().run(Duration.ofSeconds(20), command.toArray(String[]::new));
    }

    private static String rules(Netns netns, Path configFile, String backend, String... options) {
        List<String> args = new ArrayList<>(List.of("rules", "--config", configFile.toString(), "--backend", backend));
        args.addAll(List.of(options));
        Command.Result result = ChainsocksProcess.runToCompletion(netns, Duration.ofSeconds(60),
                args.toArray(String[]::new)).requireSuccess();
        assertThat(result.stderr()).as("rules warnings").doesNotContain("warning");
        return result.stdout();
    }

    private static void apply(Netns netns, String backend, String script) {
        Path file = workspace.writeFile(workspace.newDirectory("rules"), "rules-" + backend, script);
        netns.execScript("sh -e " + file);
    }

    private static List<String> packets(String filter) {
        return Command.run(List.of("tcpdump", "-n", "-r", pcap.toString(), filter), Command.DEFAULT_TIMEOUT)
                .requireSuccess().stdout().lines().filter(line -> !line.isBlank()).toList();
    }
}
