package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
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
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * chainsocks as a LAN gateway: a client in {@code lan} runs a plain {@code curl http://198.19.2.2:8080/} with no
 * proxy options; iptables in {@code gw} redirects it to chainsocks, which reads the original destination with
 * SO_ORIGINAL_DST and opens it through chains of bundled {@code socks-server} hops in {@code wan}.
 *
 * <p>One {@code run} process serves every chain of the class, each on its own listener port; a test points the
 * REDIRECT rule at the port of the chain it wants. Every hop counts its sessions, so each test asserts which hops
 * were used, in which order, and what each one was asked for.
 */
@Tag("e2e")
class GatewayRedirectE2E {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final int HTTP_PORT = 8080;
    private static final Endpoint WEB_V4 = Endpoint.of(WAN_V4, HTTP_PORT);
    private static final Endpoint WEB_V6 = Endpoint.of(WAN_V6, HTTP_PORT);
    private static final String[] ALLOW_TEST_NETWORKS = {"--allow-from", "198.18.0.0/15", "--allow-from", "fd00::/8"};

    /** The dual-stack listener; also the one {@code chainsocks rules} redirects to (the first listener). */
    private static final int DUAL_STACK_PORT = 12345;

    private static GatewayTopology topology;
    private static HttpFileServer web;
    private static BundledHop hop1;
    private static BundledHop hop2;
    private static BundledHop hop3;
    private static BundledHop authHop;
    private static ChainsocksProcess redirector;
    private static Path configFile;
    private static final Map<String, Integer> ports = new LinkedHashMap<>();

    @BeforeAll
    static void startGatewayHopsAndRedirector() {
        Prerequisites.require("iptables", "ip6tables", "iptables-save", "ip6tables-save", "nft", "ss", "curl",
                "python3");
        TestWorkspace workspace = TestWorkspace.forTest("GatewayRedirectE2E");
        topology = GatewayTopology.create(workspace);
        web = HttpFileServer.start(topology.wan(), HTTP_PORT, 1 << 16);
        hop1 = hop("hop1", 1080, ALLOW_TEST_NETWORKS);
        hop2 = hop("hop2", 1081, ALLOW_TEST_NETWORKS);
        hop3 = hop("hop3", 1082, ALLOW_TEST_NETWORKS);
        authHop = hop("hop-auth", 1090, "--user", HopKind.USER + ":" + HopKind.PASSWORD);
        List.of(hop1, hop2, hop3, authHop).forEach(BundledHop::awaitListening);

        RedirectorConfig config = new RedirectorConfig()
                .exempt("10.0.0.0/8", "127.0.0.0/8", "::1/128", "fe80::/10");
        // IPv6: a dual-stack listener first (chainsocks rules redirects both families to it), then two more.
        addChain(config, "[::]:", "v6-three", hop1.uriV6("socks5h"), hop2.uri("socks5"), hop3.uriV6("http"));
        addChain(config, "[::]:", "v6-one", hop1.uriV6("socks5"));
        addChain(config, "[::]:", "v6-two", "socks5://" + HopKind.USER + ":" + HopKind.PASSWORD + "@"
                + authHop.v6(), hop2.uriV6("http"));
        for (HopKind kind : HopKind.values()) {
            String kindUri = kind.uri(serverFor(kind));
            addChain(config, "0.0.0.0:", kind.chainName("only"), kindUri);
            addChain(config, "0.0.0.0:", kind.chainName("last"), hop1.uri("socks5"), kindUri);
            addChain(config, "0.0.0.0:", kind.chainName("middle"), hop1.uri("socks5"), kindUri, hop3.uri("socks5"));
        }
        for (HopKind kind : List.of(HopKind.SOCKS5, HopKind.SOCKS4A, HopKind.HTTP_CONNECT)) {
            addChain(config, "0.0.0.0:", kind.chainName("before-name"), kind.uri(hop1),
                    "socks5://" + WAN_HOSTNAME + ":" + hop2.v4().port());
        }
        configFile = config.writeTo(workspace, "gateway.toml");
        redirector = ChainsocksProcess.start(topology.gw(), "run", "run", "--config", configFile.toString());
        ports.forEach((chain, port) -> redirector.waitForPort(port == DUAL_STACK_PORT
                || chain.startsWith("v6-") ? "::" : "0.0.0.0", port));
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    private static BundledHop hop(String name, int port, String... options) {
        return BundledHop.start(topology.wan(), name, Endpoint.of(WAN_V4, port), Endpoint.of(WAN_V6, port), options);
    }

    private static BundledHop serverFor(HopKind kind) {
        return kind.authenticated() ? authHop : hop2;
    }

    /** A strict listener on the next free port (12345 first) with chain {@code name}. */
    private static void addChain(RedirectorConfig config, String listenPrefix, String name, String... hops) {
        int port = ports.isEmpty() ? DUAL_STACK_PORT : DUAL_STACK_PORT + ports.size();
        ports.put(name, port);
        config.strictListener(listenPrefix + port, name).chain(name, hops);
    }

    /** What one hop must have logged for the fetch: a single new session asking for {@code asked}. */
    private record Expected(BundledHop hop, String asked, String serverView) {
    }

    /**
     * Points gw's REDIRECT at the listener of {@code chain}, fetches the page from lan with a plain curl, and checks
     * the page, chainsocks' access log (the original destination, {@code outcome=ok}) and that exactly the expected
     * hops each saw one new session asking for the expected next target.
     */
    private static void fetchThrough(String chain, Endpoint target, Expected... expected) {
        redirectLanTo(ports.get(chain));
        assertFetchedThrough(chain, target, expected);
    }

    private static void assertFetchedThrough(String chain, Endpoint target, Expected... expected) {
        Map<BundledHop, Integer> before = sessionCounts();
        long endsBefore = endLines(chain).size();

        assertThat(Curl.get(topology.lan(), "http://" + target + HttpFileServer.PAGE_PATH)).isEqualTo(web.page());

        List<String> ends = redirector.awaitLogLines(line -> AccessLogLines.isEnd(line)
                && AccessLogLines.viaChain(line, chain), (int) endsBefore + 1, LOG_WAIT);
        String end = AccessLogLines.normalized(ends.get(ends.size() - 1));
        assertThat(end).as("chainsocks' access log").contains(" client=" + endpointPrefix(target))
                .contains(" dst=" + target + " ").endsWith(" outcome=ok");
        assertThat(AccessLogLines.bytes(end, "down")).as("bytes down in: " + end).isPositive();
        for (Expected hop : expected) {
            String start = hop.hop().awaitOneNewSession(before.get(hop.hop()));
            assertThat(start).as(hop.hop().name() + " was asked for the next target")
                    .contains(" dst=" + hop.asked() + " ")
                    .endsWith(" via=" + hop.serverView());
        }
        List<BundledHop> used = java.util.Arrays.stream(expected).map(Expected::hop).toList();
        for (BundledHop other : before.keySet()) {
            if (!used.contains(other)) {
                assertThat(other.sessionCount()).as(other.name() + " is not part of chain " + chain)
                        .isEqualTo(before.get(other));
            }
        }
    }

    private static String endpointPrefix(Endpoint target) {
        return target.isIpv6() ? "[" + GatewayTopology.LAN_V6 + "]:" : LAN_V4 + ":";
    }

    private static List<String> endLines(String chain) {
        return redirector.logLines().stream()
                .filter(line -> AccessLogLines.isEnd(line) && AccessLogLines.viaChain(line, chain)).toList();
    }

    private static Map<BundledHop, Integer> sessionCounts() {
        Map<BundledHop, Integer> counts = new LinkedHashMap<>();
        for (BundledHop hop : List.of(hop1, hop2, hop3, authHop)) {
            counts.put(hop, hop.sessionCount());
        }
        return counts;
    }

    private static void redirectLanTo(int port) {
        topology.clearRedirects();
        topology.redirectLanTcp(port);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(HopKind.class)
    void oneHopChainOfEachKind(HopKind kind) {
        BundledHop server = serverFor(kind);
        fetchThrough(kind.chainName("only"), WEB_V4,
                new Expected(server, WEB_V4.toString(), kind.serverViewForAddress()));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(HopKind.class)
    void eachKindAsTheLastOfTwoHops(HopKind kind) {
        BundledHop server = serverFor(kind);
        fetchThrough(kind.chainName("last"), WEB_V4,
                new Expected(hop1, server.v4().toString(), HopKind.SOCKS5.serverViewForAddress()),
                new Expected(server, WEB_V4.toString(), kind.serverViewForAddress()));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(HopKind.class)
    void eachKindInTheMiddleOfThreeHops(HopKind kind) {
        BundledHop server = serverFor(kind);
        fetchThrough(kind.chainName("middle"), WEB_V4,
                new Expected(hop1, server.v4().toString(), HopKind.SOCKS5.serverViewForAddress()),
                new Expected(server, hop3.v4().toString(), kind.serverViewForAddress()),
                new Expected(hop3, WEB_V4.toString(), HopKind.SOCKS5.serverViewForAddress()));
    }

    @Test
    void credentialsNeverAppearInTheRedirectorsLog() {
        fetchThrough(HopKind.SOCKS5_PASSWORD.chainName("only"), WEB_V4,
                new Expected(authHop, WEB_V4.toString(), HopKind.SOCKS5_PASSWORD.serverViewForAddress()));
        // Log lines are written by a thread of their own: wait for the one naming the user, then read them all.
        redirector.awaitLogLines(line -> line.contains(HopKind.USER), 1, Duration.ofSeconds(10));
        assertThat(redirector.logText()).doesNotContain(HopKind.PASSWORD);
    }

    /**
     * The second hop is given as {@code web.test}, a name only {@code wan} can resolve: chainsocks must send it to
     * the first hop as a name (SOCKS5 DOMAIN, SOCKS4a, HTTP CONNECT authority) and the first hop resolves it.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = HopKind.class, names = {"SOCKS5", "SOCKS4A", "HTTP_CONNECT"})
    void nextHopGivenByNameIsResolvedByThePreviousHop(HopKind kind) {
        assertThat(topology.gw().run(Command.DEFAULT_TIMEOUT, "getent", "hosts", WAN_HOSTNAME).succeeded())
                .as(WAN_HOSTNAME + " must not resolve in gw").isFalse();
        fetchThrough(kind.chainName("before-name"), WEB_V4,
                new Expected(hop1, WAN_HOSTNAME + ":" + hop2.v4().port(), kind.serverViewForName()),
                new Expected(hop2, WEB_V4.toString(), HopKind.SOCKS5.serverViewForAddress()));
    }

    @Test
    void ipv6ThroughOneHop() {
        fetchThrough("v6-one", WEB_V6, new Expected(hop1, WEB_V6.toString(), "socks5 CONNECT"));
    }

    @Test
    void ipv6ThroughTwoHopsWithPasswordAndHttpConnect() {
        fetchThrough("v6-two", WEB_V6,
                new Expected(authHop, hop2.v6().toString(), "socks5 CONNECT user=" + HopKind.USER),
                new Expected(hop2, WEB_V6.toString(), "http CONNECT"));
    }

    @Test
    void ipv6ThroughThreeHopsMixingAddressFamilies() {
        fetchThrough("v6-three", WEB_V6, threeMixedHopsTo(WEB_V6));
    }

    /** An IPv4 connection on the dual-stack {@code [::]} listener: SO_ORIGINAL_DST must be asked at the IPv4 level. */
    @Test
    void ipv4ClientOnTheDualStackListener() {
        fetchThrough("v6-three", WEB_V4, threeMixedHopsTo(WEB_V4));
    }

    /** Chain v6-three: socks5h to hop1 over IPv6, which is asked for hop2's IPv4 address, then http over IPv6. */
    private static Expected[] threeMixedHopsTo(Endpoint target) {
        return new Expected[] {
            new Expected(hop1, hop2.v4().toString(), "socks5 CONNECT"),
            new Expected(hop2, hop3.v6().toString(), "socks5 CONNECT"),
            new Expected(hop3, target.toString(), "http CONNECT")};
    }

    /**
     * Instead of hand-written REDIRECT rules, the ones {@code chainsocks rules --mode gateway --lan-iface gw-lan}
     * prints for this class's configuration: both families go to the first listener ({@code [::]:12345}); the
     * explicit exempt list does not cover the test networks. {@code --down} removes every trace.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"iptables", "nft"})
    void generatedGatewayRulesRedirectBothFamiliesAndDownRemovesThem(String backend) {
        topology.clearRedirects();
        String up = rules(backend, "--mode", "gateway", "--lan-iface", GW_LAN_IF);
        String down = rules(backend, "--mode", "gateway", "--lan-iface", GW_LAN_IF, "--down");
        try {
            apply(backend, up);
            assertThat(firewallState(backend)).containsIgnoringCase("chainsocks");
            assertFetchedThrough("v6-three", WEB_V4, threeMixedHopsTo(WEB_V4));
            assertFetchedThrough("v6-three", WEB_V6, threeMixedHopsTo(WEB_V6));
        } finally {
            apply(backend, down);
        }
        assertThat(firewallState(backend)).doesNotContainIgnoringCase("chainsocks");

        int sessionsBefore = endLines("v6-three").size();
        int requestsBefore = web.requestLines().size();
        assertThat(Curl.get(topology.lan(), "http://" + WEB_V4 + HttpFileServer.PAGE_PATH)).isEqualTo(web.page());
        assertThat(web.awaitRequests(requestsBefore + 1, LOG_WAIT).get(requestsBefore))
                .as("after --down lan reaches wan directly").startsWith("::ffff:" + LAN_V4 + " ");
        assertThat(endLines("v6-three")).hasSize(sessionsBefore);
    }

    /**
     * Switching {@code --backend}: each backend's up script removes the other backend's chainsocks rules, so only
     * one set is in force and lan's connections are still redirected once (one session at chainsocks, one at each
     * hop). An up script whose other tool is not installed still succeeds (it cannot remove what it cannot see, so
     * both sets are then in force), and either backend's down script removes both sets, and so does
     * {@code native-scripts/firewall down} when it cannot run the generator.
     */
    @Test
    void switchingBackendsLeavesOnlyTheNewBackendsRules() {
        topology.clearRedirects();
        String[] gateway = {"--mode", "gateway", "--lan-iface", GW_LAN_IF};
        String iptablesUp = rules("iptables", gateway);
        String nftUp = rules("nft", gateway);
        String iptablesDown = rules("iptables", "--mode", "gateway", "--down");
        String nftDown = rules("nft", "--mode", "gateway", "--down");
        try {
            apply("iptables", iptablesUp);
            assertRulesInForce(true, false);
            assertFetchedThrough("v6-three", WEB_V4, threeMixedHopsTo(WEB_V4));

            apply("nft", nftUp);
            assertRulesInForce(false, true);
            assertFetchedThrough("v6-three", WEB_V4, threeMixedHopsTo(WEB_V4));
            assertFetchedThrough("v6-three", WEB_V6, threeMixedHopsTo(WEB_V6));

            apply("iptables", iptablesUp);
            assertRulesInForce(true, false);
            assertFetchedThrough("v6-three", WEB_V4, threeMixedHopsTo(WEB_V4));
            assertFetchedThrough("v6-three", WEB_V6, threeMixedHopsTo(WEB_V6));

            applyWithout(nftUp, "iptables", "ip6tables");
            assertRulesInForce(true, true);
            apply("nft", nftDown);
            assertRulesInForce(false, false);

            apply("nft", nftUp);
            applyWithout(iptablesUp, "nft");
            assertRulesInForce(true, true);
            apply("iptables", iptablesDown);
            assertRulesInForce(false, false);

            // native-scripts/firewall down, when the generator cannot run, removes both sets too.
            apply("nft", nftUp);
            applyWithout(iptablesUp, "nft");
            Path firewall = Path.of("native-scripts/firewall").toAbsolutePath();
            topology.gw().execScript("CHAINSOCKS=false CHAINSOCKS_FIREWALL_ENV=/dev/null " + firewall
                    + " down --backend nft --config /nonexistent");
            assertRulesInForce(false, false);
        } finally {
            apply("iptables", iptablesDown);
        }
    }

    /** Which backends' chainsocks rules are in gw: the CHAINSOCKS chains, the {@code chainsocks} nft tables. */
    private static void assertRulesInForce(boolean iptables, boolean nft) {
        String chains = topology.gw().exec("iptables-save", "-t", "nat")
                + topology.gw().exec("ip6tables-save", "-t", "nat");
        List<String> tables = topology.gw().exec("nft", "list", "tables").lines().map(String::trim).toList();
        for (String line : List.of(":CHAINSOCKS ", "-j CHAINSOCKS")) {
            assertThat(chains.lines().filter(l -> l.contains(line)).count()).as("iptables " + line + " in\n" + chains)
                    .isEqualTo(iptables ? 2 : 0);
        }
        if (nft) {
            assertThat(tables).contains("table ip chainsocks", "table ip6 chainsocks");
        } else {
            assertThat(tables).doesNotContain("table ip chainsocks", "table ip6 chainsocks");
        }
    }

    /** Runs a generated script with a PATH on which {@code missing} are not installed. */
    private static void applyWithout(String script, String... missing) {
        TestWorkspace workspace = topology.workspace();
        Path bin = workspace.newDirectory("path-without-" + String.join("-", missing));
        for (String tool : List.of("sed", "iptables", "ip6tables", "nft")) {
            if (!List.of(missing).contains(tool)) {
                Path target = Prerequisites.locate(tool).orElseThrow(() -> new AssertionError(tool + " not found"));
                try {
                    Files.createSymbolicLink(bin.resolve(tool), target);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        Path file = workspace.writeFile(workspace.newDirectory("rules"), "rules-without", script);
        topology.gw().execScript("PATH=" + bin + " /bin/sh -e " + file);
    }

    private static String rules(String backend, String... options) {
        List<String> args = new ArrayList<>(List.of("rules", "--config", configFile.toString(),
                "--backend", backend));
        args.addAll(List.of(options));
        Command.Result result = ChainsocksProcess.runToCompletion(topology.gw(), Duration.ofSeconds(60),
                args.toArray(String[]::new)).requireSuccess();
        assertThat(result.stderr()).as("rules warnings").doesNotContain("warning");
        return result.stdout();
    }

    private static void apply(String backend, String script) {
        Path file = topology.workspace().writeFile(topology.workspace().newDirectory("rules"), "rules-" + backend,
                script);
        topology.gw().execScript("sh -e " + file);
    }

    private static String firewallState(String backend) {
        return backend.equals("nft")
                ? topology.gw().exec("nft", "list", "ruleset")
                : topology.gw().exec("iptables-save", "-t", "nat") + topology.gw().exec("ip6tables-save", "-t", "nat");
    }
}
