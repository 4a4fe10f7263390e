package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V6;
import static dev.chainsocks.e2e.GatewayTopology.WAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Dante;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * UDP from the LAN through TPROXY and a SOCKS5 UDP ASSOCIATE: {@code lan} sends datagrams (an echo request, a DNS
 * query with dig) to servers in {@code wan}; {@code gw}'s mangle table hands them to chainsocks' transparent UDP
 * listener, which carries each flow through a UDP association on the hop in {@code wan} (the bundled server, or
 * Dante) and sends the answers back from the original destination. Both families, both firewall backends.
 *
 * <p>What proves the path: the echo server answers with the address it saw the datagram come from, which is the
 * proxy's relay and not the LAN client; the client sees the answer come from the address it sent to; chainsocks
 * logs a start and an end line per flow, and the end comes from the idle timeout, observed in the log.
 *
 * <p>No rule is written by hand: {@code gw} applies exactly what {@code chainsocks rules --mode gateway --lan-iface
 * gw-lan} prints for the configuration (twice, leaving one copy), and the printed removal leaves nothing behind.
 */
@Tag("e2e")
class UdpTproxyE2E {

    private static final int PORT = 12500;
    private static final int ECHO_PORT = 7007;
    private static final int DNS_PORT = 5353;
    private static final String DNS_ANSWER = "198.18.7.7";
    private static final Duration LOG_WAIT = Duration.ofSeconds(30);

    /** Keeps the fd00::/8 and 198.18.0.0/15 test networks out of the default exemptions. */
    private static final String FIREWALL = """

            [firewall]
            exempt = ["10.0.0.0/8"]
            """;

    /**
     * Prints the rules for {@code config} with {@code chainsocks rules --mode gateway --lan-iface gw-lan}, applies
     * them twice (the second run must replace, not add), and returns the printed removal script.
     */
    private static String applyGeneratedRules(GatewayTopology topology, Path config, String backend) {
        String up = GeneratedRules.print(topology.gw(), config, backend, "--mode", "gateway", "--lan-iface",
                GW_LAN_IF);
        String down = GeneratedRules.print(topology.gw(), config, backend, "--mode", "gateway", "--lan-iface",
                GW_LAN_IF, "--down");
        GeneratedRules.apply(topology.gw(), up);
        GeneratedRules.apply(topology.gw(), up);
        for (String ip : List.of("-4", "-6")) {
            assertThat(topology.gw().exec("ip", ip, "rule", "list").lines()
                    .filter(l -> l.contains("fwmark 0x1/0x1 lookup 100 proto 67"))).hasSize(1);
        }
        if (backend.equals("iptables")) {
            for (String save : List.of("iptables-save", "ip6tables-save")) {
                String mangle = topology.gw().exec(save, "-t", "mangle");
                assertThat(mangle.lines().filter(l -> l.equals("-A PREROUTING -i " + GW_LAN_IF + " -j CHAINSOCKS")))
                        .hasSize(1);
                assertThat(mangle.lines().filter(l -> l.contains("-p udp") && l.contains("-j TPROXY")
                        && l.contains("--on-port " + PORT))).hasSize(1);
            }
        } else {
            assertThat(topology.gw().exec("nft", "list", "ruleset").lines()
                    .filter(l -> l.contains("udp") && l.contains("tproxy") && l.contains(":" + PORT))).hasSize(2);
        }
        return down;
    }

    @ParameterizedTest(name = "{0} hop, {1}")
    @CsvSource({"bundled, iptables", "bundled, nft", "dante, iptables", "dante, nft"})
    void lanUdpAndDnsGoThroughTheHopsUdpRelay(String peer, String backend) throws Exception {
        Prerequisites.require("iptables", "ip6tables", "nft", "ip", "ss", "dig", "python3", "danted");
        TestWorkspace workspace = TestWorkspace.forTest("UdpTproxyE2E-" + peer + "-" + backend);
        try (GatewayTopology topology = GatewayTopology.create(workspace)) {
            ManagedProcess echo = UdpPeers.echo(topology.wan(), ECHO_PORT, WAN_V4, WAN_V6);
            ManagedProcess dns = UdpPeers.dns(topology.wan(), DNS_PORT, DNS_ANSWER, WAN_V4, WAN_V6);
            String hopUri;
            AutoCloseable hop;
            if (peer.equals("bundled")) {
                BundledHop bundled = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), null,
                        "--allow-from", "198.18.0.0/15");
                bundled.awaitListening();
                hopUri = bundled.uri("socks5");
                hop = bundled;
            } else {
                Dante dante = Dante.in(topology.wan()).listen(WAN_V4, 1080).external(WAN_IF).allowUdp().start();
                hopUri = "socks5://" + WAN_V4 + ":1080";
                hop = dante;
            }
            try (hop) {
                Path config = workspace.work().resolve("udp.toml");
                Files.writeString(config, """
                        [[listener]]
                        protocol = "udp"
                        listen = "[::]:%d"
                        chains = ["main"]
                        flow-idle-timeout = "8s"

                        [chain.main]
                        hops = ["%s"]
                        """.formatted(PORT, hopUri) + FIREWALL);
                String down = applyGeneratedRules(topology, config, backend);
                Path control = workspace.work().resolve("c.sock");
                try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                        "--config", config.toString(), "--control-socket", control.toString())) {
                    redirector.awaitLogLines(line -> line.contains("listening for UDP on [::]:" + PORT), 1,
                            LOG_WAIT);

                    // IPv4 echo: the answer comes from the address asked, and the echo server saw the relay.
                    String v4 = UdpPeers.ask(topology.lan(), WAN_V4, ECHO_PORT, "ping4");
                    assertThat(v4).startsWith("reply from " + WAN_V4 + ":" + ECHO_PORT + " echo " + WAN_V4 + ":")
                            .endsWith(" ping4");
                    // IPv6 echo, through the same IPv4 hop: the relay sends to the IPv6 destination.
                    String v6 = UdpPeers.ask(topology.lan(), WAN_V6, ECHO_PORT, "ping6");
                    assertThat(v6).startsWith("reply from " + WAN_V6 + ":" + ECHO_PORT + " echo " + WAN_V6 + ":")
                            .endsWith(" ping6");
                    assertThat(echo.logText()).doesNotContain("from " + LAN_V4).doesNotContain("from " + LAN_V6);

                    // DNS over UDP, both families, with dig.
                    for (String server : List.of(WAN_V4, WAN_V6)) {
                        Command.Result answer = topology.lan().run(Duration.ofSeconds(20), "dig", "@" + server,
                                "-p", String.valueOf(DNS_PORT), "+short", "+tries=1", "+time=5", "web.example", "A");
                        assertThat(answer.requireSuccess().stdout().strip()).as("dig @%s", server)
                                .isEqualTo(DNS_ANSWER);
                    }
                    assertThat(dns.logText()).contains("query web.example type 1 from " + WAN_V4)
                            .contains("query web.example type 1 from " + WAN_V6).doesNotContain("from " + LAN_V4);

                    List<String> starts = redirector.awaitLogLines(line -> line.contains("udp flow")
                            && line.contains(" start "), 4, LOG_WAIT);
                    assertThat(starts).anySatisfy(line -> assertThat(line).contains("client=" + LAN_V4 + ":",
                            "dst=" + WAN_V4 + ":" + ECHO_PORT, "via=main"))
                            .anySatisfy(line -> assertThat(line).contains("client=[" + LAN_V6 + "]:",
                                    "dst=[" + WAN_V6 + "]:" + ECHO_PORT));

                    // While the flows are open, status counts them.
                    Command.Result status = ChainsocksProcess.runToCompletion(topology.gw(), Duration.ofSeconds(30),
                            "status", "--control-socket", control.toString());
                    assertThat(status.requireSuccess().stdout()).contains("udp listener [::]:" + PORT)
                            .containsPattern("flows: [1-4] active of max 1024, 4 started, 0 failed, 0 evicted");

                    // Every flow ends on its idle timeout: one end line each, then the table is empty.
                    List<String> ends = redirector.awaitLogLines(line -> line.contains("udp flow")
                            && line.contains(" end "), 4, LOG_WAIT);
                    assertThat(ends).allSatisfy(line -> assertThat(line).contains("outcome=idle"));
                    assertThat(ends).anySatisfy(line -> assertThat(line).contains("dst=" + WAN_V4 + ":" + ECHO_PORT,
                            "up=5B/1dg").containsPattern("down=\\d+B/1dg"));
                    Command.Result after = ChainsocksProcess.runToCompletion(topology.gw(), Duration.ofSeconds(30),
                            "status", "--control-socket", control.toString());
                    assertThat(after.requireSuccess().stdout()).contains("flows: 0 active of max 1024, 4 started");

                    // The printed removal leaves nothing behind, and lan's UDP then reaches wan directly.
                    GeneratedRules.apply(topology.gw(), down);
                    GeneratedRules.assertNothingInForce(topology.gw(), 100);
                    assertThat(UdpPeers.ask(topology.lan(), WAN_V4, ECHO_PORT, "direct"))
                            .startsWith("reply from " + WAN_V4 + ":" + ECHO_PORT + " echo " + LAN_V4 + ":")
                            .endsWith(" direct");
                    assertThat(redirector.stop()).isZero();
                }
            }
        }
    }

    @Test
    void aFullTableEvictsTheLeastRecentFlowAndAClosedAssociationEndsItsFlow() throws Exception {
        Prerequisites.require("iptables", "ip6tables", "nft", "ip", "ss", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("UdpTproxyE2E-evict");
        try (GatewayTopology topology = GatewayTopology.create(workspace)) {
            UdpPeers.echo(topology.wan(), ECHO_PORT, WAN_V4, WAN_V6);
            try (BundledHop hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), null,
                    "--allow-from", "198.18.0.0/15")) {
                hop.awaitListening();
                Path config = workspace.work().resolve("udp.toml");
                Files.writeString(config, """
                        [[listener]]
                        protocol = "udp"
                        listen = "[::]:%d"
                        chains = ["dead", "main"]
                        max-flows = 1

                        [chain.dead]
                        hops = ["socks5://%s:1"]

                        [chain.main]
                        hops = ["%s"]
                        """.formatted(PORT, WAN_V4, hop.uri("socks5")) + FIREWALL);
                applyGeneratedRules(topology, config, "iptables");
                Path control = workspace.work().resolve("c.sock");
                try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                        "--config", config.toString(), "--control-socket", control.toString())) {
                    redirector.awaitLogLines(line -> line.contains("listening for UDP on [::]:" + PORT), 1,
                            LOG_WAIT);
                    assertThat(UdpPeers.ask(topology.lan(), WAN_V4, ECHO_PORT, "one")).endsWith(" one");
                    assertThat(UdpPeers.ask(topology.lan(), WAN_V6, ECHO_PORT, "two")).endsWith(" two");
                    assertThat(UdpPeers.ask(topology.lan(), WAN_V4, ECHO_PORT, "three")).endsWith(" three");

                    // Each flow tried the dead chain first (connection refused), then went through main.
                    assertThat(redirector.logLines().stream().filter(line -> line.contains(" start ")))
                            .hasSize(3).allSatisfy(line -> assertThat(line).contains("via=main[",
                                    "(after chain dead: connect to " + WAN_V4 + ":1 failed: Connection refused)"));
                    // Each new flow closed the one before it; the warning came once.
                    List<String> evicted = redirector.awaitLogLines(line -> line.contains("outcome=evicted"), 2,
                            LOG_WAIT);
                    assertThat(evicted.get(0)).contains("udp flow 1 end", "dst=" + WAN_V4 + ":" + ECHO_PORT);
                    assertThat(evicted.get(1)).contains("udp flow 2 end", "dst=[" + WAN_V6 + "]:" + ECHO_PORT);
                    assertThat(redirector.logLines().stream().filter(line -> line.contains("max-flows 1 reached")))
                            .hasSize(1);
                    Command.Result status = ChainsocksProcess.runToCompletion(topology.gw(), Duration.ofSeconds(30),
                            "status", "--control-socket", control.toString());
                    assertThat(status.requireSuccess().stdout())
                            .contains("flows: 1 active of max 1, 3 started, 0 failed, 2 evicted");

                    // The proxy going away closes the association's TCP connection, which ends the flow.
                    hop.close();
                    String closed = redirector.awaitLogLines(line -> line.contains("outcome=association-closed"), 1,
                            LOG_WAIT).get(0);
                    assertThat(closed).contains("udp flow 3 end", "up=5B/1dg");
                    assertThat(redirector.stop()).isZero();
                }
            }
        }
    }

    @Test
    void reloadKeepsAnUnchangedUdpListenerWithItsFlowsAndReplacesAChangedOne() throws Exception {
        Prerequisites.require("iptables", "ip6tables", "nft", "ip", "ss", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("UdpTproxyE2E-reload");
        try (GatewayTopology topology = GatewayTopology.create(workspace)) {
            UdpPeers.echo(topology.wan(), ECHO_PORT, WAN_V4, WAN_V6);
            try (BundledHop hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), null,
                    "--allow-from", "198.18.0.0/15")) {
                hop.awaitListening();
                Path config = workspace.work().resolve("udp.toml");
                String template = FIREWALL + """
                        [[listener]]
                        protocol = "udp"
                        listen = "[::]:%d"
                        chains = ["main"]
                        max-flows = %d

                        [chain.main]
                        hops = ["%s"]
                        %s
                        """;
                Files.writeString(config, template.formatted(PORT, 10, hop.uri("socks5"), ""));
                applyGeneratedRules(topology, config, "nft");
                Path control = workspace.work().resolve("c.sock");
                try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                        "--config", config.toString(), "--control-socket", control.toString())) {
                    redirector.awaitLogLines(line -> line.contains("listening for UDP on [::]:" + PORT), 1,
                            LOG_WAIT);
                    assertThat(UdpPeers.ask(topology.lan(), WAN_V4, ECHO_PORT, "before")).endsWith(" before");

                    // A reload that leaves the UDP listener as it was keeps it, and its flow.
                    Files.writeString(config, template.formatted(PORT, 10, hop.uri("socks5"),
                            "[chain.spare]\nhops = []\n"));
                    assertThat(reload(topology, control)).contains("1 UDP listener(s)");
                    assertThat(redirector.logLines().stream().filter(line -> line.contains("listening for UDP")))
                            .hasSize(1);
                    assertThat(status(topology, control)).contains("flows: 1 active of max 10, 1 started");

                    // Changing it replaces it: its flows end as closed, the new one carries new flows.
                    Files.writeString(config, template.formatted(PORT, 20, hop.uri("socks5"), ""));
                    assertThat(reload(topology, control)).contains("1 UDP listener(s)");
                    assertThat(redirector.awaitLogLines(line -> line.contains("udp flow 1 end"), 1, LOG_WAIT)
                            .get(0)).contains("outcome=closed");
                    assertThat(UdpPeers.ask(topology.lan(), WAN_V4, ECHO_PORT, "after")).endsWith(" after");
                    assertThat(status(topology, control)).contains("flows: 1 active of max 20, 1 started");
                    assertThat(redirector.stop()).isZero();
                }
            }
        }
    }

    /**
     * A chain of two bundled servers: hop 1 grants an association, a CONNECT through hop 1 carries hop 2's UDP
     * ASSOCIATE (over IPv6, so hop 2 sees hop 1 come from another address than chainsocks), and every datagram to
     * hop 1's relay carries two headers: the outer names hop 2's relay, the inner the destination. Answers come back
     * wrapped twice and reach the LAN client from the address it asked. A chain listed first whose hop 2 refuses the
     * password fails at hop 2's association: both of its connections to hop 1 are closed and the flow goes through
     * the next chain.
     */
    @Test
    void twoSocks5HopsCarryUdpWithOneHeaderEach() throws Exception {
        Prerequisites.require("iptables", "ip6tables", "nft", "ip", "ss", "dig", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("UdpTproxyE2E-two-hops");
        try (GatewayTopology topology = GatewayTopology.create(workspace)) {
            UdpPeers.echo(topology.wan(), ECHO_PORT, WAN_V4, WAN_V6);
            UdpPeers.dns(topology.wan(), DNS_PORT, DNS_ANSWER, WAN_V4, WAN_V6);
            try (BundledHop first = BundledHop.start(topology.wan(), "hop1", Endpoint.of(WAN_V4, 1080), null,
                    "--allow-from", "198.18.0.0/15");
                    BundledHop second = BundledHop.start(topology.wan(), "hop2", Endpoint.of(WAN_V4, 1081),
                            Endpoint.of(WAN_V6, 1081), "--user", "two:pw2", "--allow-from", "fd00::/8")) {
                first.awaitListening();
                second.awaitListening();
                Path config = workspace.work().resolve("udp.toml");
                Files.writeString(config, """
                        [[listener]]
                        protocol = "udp"
                        listen = "[::]:%d"
                        chains = ["refused", "two"]

                        [chain.refused]
                        hops = ["%2$s", "socks5://two:wrong@[%3$s]:1081"]

                        [chain.two]
                        hops = ["%2$s", "socks5://two:pw2@[%3$s]:1081"]
                        """.formatted(PORT, first.uri("socks5"), WAN_V6) + FIREWALL);
                Command.Result check = ChainsocksProcess.runToCompletion(topology.gw(), Duration.ofSeconds(60),
                        "check", "--config", config.toString());
                assertThat(check.exitCode()).as(check.toString()).isZero();
                String down = applyGeneratedRules(topology, config, "nft");
                try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run",
                        "--config", config.toString(), "--control-socket",
                        workspace.work().resolve("c.sock").toString())) {
                    redirector.awaitLogLines(line -> line.contains("listening for UDP on [::]:" + PORT), 1,
                            LOG_WAIT);
                    try {
                        assertThat(UdpPeers.ask(topology.lan(), WAN_V4, ECHO_PORT, "ping4"))
                                .startsWith("reply from " + WAN_V4 + ":" + ECHO_PORT + " echo ").endsWith(" ping4");
                    } catch (RuntimeException | AssertionError e) {
                        throw new AssertionError("no answer through two hops; chainsocks:\n"
                                + String.join("\n", redirector.logLines()) + "\nhop 1:\n"
                                + String.join("\n", first.process().logLines()) + "\nhop 2:\n"
                                + String.join("\n", second.process().logLines()), e);
                    }
                    assertThat(UdpPeers.ask(topology.lan(), WAN_V6, ECHO_PORT, "ping6"))
                            .startsWith("reply from " + WAN_V6 + ":" + ECHO_PORT + " echo ").endsWith(" ping6");
                    Command.Result answer = topology.lan().run(Duration.ofSeconds(20), "dig", "@" + WAN_V4, "-p",
                            String.valueOf(DNS_PORT), "+short", "+tries=1", "+time=5", "web.example", "A");
                    assertThat(answer.requireSuccess().stdout().strip()).isEqualTo(DNS_ANSWER);

                    List<String> starts = redirector.awaitLogLines(line -> line.contains("udp flow")
                            && line.contains(" start "), 3, LOG_WAIT);
                    assertThat(starts).allSatisfy(line -> assertThat(line).contains("via=two[",
                                    "(after chain refused: hop 2 UDP ASSOCIATE: ")
                            .containsPattern("relay=" + WAN_V4.replace(".", "\\.") + ":\\d+>\\[" + WAN_V6
                                    + "\\]:\\d+"));
                    // Hop 1: per flow and chain, the association and the CONNECT to hop 2, the refused chain's two
                    // closed again; hop 2: per flow, one association asked for by hop 1, over IPv6.
                    List<String> firstSessions = first.awaitNewSessions(0, 12);
                    assertThat(firstSessions.stream().filter(l -> l.contains("dst=[" + WAN_V6 + "]:1081")))
                            .hasSize(6);
                    // The three good flows are still open (a minute's idle timeout): these ends are the refused ones.
                    assertThat(first.process().awaitLogLines(AccessLogLines::isEnd, 6, LOG_WAIT))
                            .hasSizeGreaterThanOrEqualTo(6);
                    assertThat(second.awaitNewSessions(0, 3)).hasSize(3)
                            .allSatisfy(line -> assertThat(line).contains("client=[" + WAN_V6 + "]:"));
                    assertThat(redirector.stop()).isZero();
                }
                GeneratedRules.apply(topology.gw(), down);
                GeneratedRules.assertNothingInForce(topology.gw(), 100);
            }
        }
    }

    private static String reload(GatewayTopology topology, Path control) {
        return ChainsocksProcess.runToCompletion(topology.gw(), Duration.ofSeconds(30), "reload",
                "--control-socket", control.toString()).requireSuccess().stdout();
    }

    private static String status(GatewayTopology topology, Path control) {
        return ChainsocksProcess.runToCompletion(topology.gw(), Duration.ofSeconds(30), "status",
                "--control-socket", control.toString()).requireSuccess().stdout();
    }

    @Test
    void chainsThatCannotCarryUdpAreRefusedByCheck() throws Exception {
        Prerequisites.require("python3");
        try (TestWorkspace workspace = TestWorkspace.forTest("UdpTproxyE2E-check")) {
            Path config = workspace.writeFile(workspace.work(), "udp-http.toml", """
                    [[listener]]
                    protocol = "udp"
                    listen = "0.0.0.0:%d"
                    chains = ["web"]

                    [chain.web]
                    hops = ["http://198.19.2.2:3128", "socks5://198.19.2.2:1080"]
                    """.formatted(PORT));
            Command.Result check = Command.run(ChainsocksProcess.command(workspace, "check", "--config",
                    config.toString()), Duration.ofSeconds(60));
            assertThat(check.exitCode()).as(check.toString()).isEqualTo(2);
            assertThat(check.stderr()).contains(config + ":7: [chain.web] hops[0]: hop 1 http://198.19.2.2:3128"
                    + " speaks http, which cannot carry UDP, needed by UDP [[listener]] #1 (0.0.0.0:" + PORT + ")");
            // A socks5 hop after it could carry UDP: only the http hop is refused.
            assertThat(check.stderr()).doesNotContain("hops[1]");
        }
    }
}
