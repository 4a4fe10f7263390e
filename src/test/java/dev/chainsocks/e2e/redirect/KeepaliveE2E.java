package dev.chainsocks.e2e.redirect;

import static dev.chainsocks.e2e.GatewayTopology.GW_LAN_IF;
import static dev.chainsocks.e2e.GatewayTopology.LAN_V4;
import static dev.chainsocks.e2e.GatewayTopology.WAN_V4;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.GatewayTopology;
import dev.chainsocks.e2e.HttpFileServer;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Prerequisites;
import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code [timeouts] keepalive-*}: both sockets of a relayed connection, the client's and the upstream one, carry the
 * configured TCP keepalive, read back from the kernel with {@code ss -tno} (a keepalive timer within the configured
 * idle time, where the kernel default would be two hours and no keepalive at all is no timer).
 */
@Tag("e2e")
class KeepaliveE2E {

    private static final int PORT = 12601;
    private static final Pattern TIMER = Pattern.compile("timer:\\(keepalive,(?:(\\d+)min)?(\\d+)(?:\\.\\d+)?(m?s)");

    @Test
    void bothSidesOfARelayedConnectionCarryTheConfiguredKeepalive() throws Exception {
        Prerequisites.require("iptables", "ss", "curl", "python3");
        TestWorkspace workspace = TestWorkspace.forTest("KeepaliveE2E");
        try (GatewayTopology topology = GatewayTopology.create(workspace);
                HttpFileServer web = HttpFileServer.start(topology.wan(), 8080, 1 << 10);
                BundledHop hop = BundledHop.start(topology.wan(), "hop", Endpoint.of(WAN_V4, 1080), null,
                        "--allow-from", "198.18.0.0/15")) {
            Path config = workspace.writeFile(workspace.newDirectory("conf"), "keepalive.toml", """
                    [timeouts]
                    keepalive-idle = "45s"
                    keepalive-interval = "5s"
                    keepalive-count = 3

                    [[listener]]
                    listen = "0.0.0.0:%d"
                    chains = ["main"]

                    [chain.main]
                    hops = ["%s"]
                    """.formatted(PORT, hop.uri("socks5")));
            hop.awaitListening();
            try (ChainsocksProcess redirector = ChainsocksProcess.start(topology.gw(), "run", "run", "--config",
                    config.toString())) {
                redirector.waitForPort("0.0.0.0", PORT);
                topology.gw().execScript("iptables -t nat -A PREROUTING -i " + GW_LAN_IF
                        + " -p tcp -m addrtype ! --dst-type LOCAL -j REDIRECT --to-ports " + PORT);
                // A connection that stays open and quiet: python connects and waits.
                ManagedProcess holder = topology.lan().spawn("holder", Prerequisites.PYTHON, "-c",
                        "import socket,time\ns=socket.create_connection(('" + WAN_V4 + "',8080))\n"
                                + "print('connected',flush=True)\ntime.sleep(120)");
                try {
                    holder.awaitLogLine("connected", Duration.ofSeconds(20));
                    redirector.awaitLogLines(line -> line.contains(" start "), 1, Duration.ofSeconds(10));
                    String clientSide = awaitSocket(topology, "sport = :" + PORT + " and dst " + LAN_V4);
                    String upstream = awaitSocket(topology, "dport = :1080 and dst " + WAN_V4);
                    for (String socket : List.of(clientSide, upstream)) {
                        Matcher timer = TIMER.matcher(socket);
                        assertThat(timer.find()).as("a keepalive timer in: " + socket).isTrue();
                        long seconds = (timer.group(1) == null ? 0 : Long.parseLong(timer.group(1)) * 60)
                                + (timer.group(3).equals("ms") ? 0 : Long.parseLong(timer.group(2)));
                        assertThat(seconds).as(socket).isBetween(1L, 45L);
                    }
                } finally {
                    holder.stop();
                }
                assertThat(redirector.stop()).isZero();
            }
        }
    }

    /**
     * The {@code ss -tno} line of gw's established socket matching {@code filter}, once it shows a keepalive timer
     * (right after the handshake a socket may still wait for an ACK, and ss then shows the retransmission timer), or
     * the last line seen after 10 s.
     */
    private static String awaitSocket(GatewayTopology topology, String filter) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            String out = topology.gw().execScript("ss -tnoH state established '( " + filter + " )'").strip();
            if (TIMER.matcher(out).find() || System.nanoTime() > deadline) {
                assertThat(out).as("ss for " + filter).isNotEmpty();
                return out;
            }
            Thread.sleep(100);
        }
    }
}
