package dev.chainsocks.e2e.linux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.linux.ChildProcesses;
import dev.chainsocks.linux.OriginalDestinationProbe;
import dev.chainsocks.testsupport.Prerequisite;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * SO_ORIGINAL_DST against the real kernel: a fresh network namespace with iptables/ip6tables {@code nat OUTPUT
 * REDIRECT} rules, and {@link OriginalDestinationProbe} in a child JVM inside it, connecting to the redirected
 * addresses and looking up where each accepted connection was going.
 *
 * <p>Needs root, {@code ip}, {@code iptables} and {@code ip6tables}. Without them it is skipped locally and fails
 * when {@code CI=true}.
 */
@Tag("e2e")
class OriginalDestinationE2E {
    private static final int V4_PORT = 18080;
    private static final int DUAL_PORT = 18081;
    private static String namespace;

    @BeforeAll
    static void createNamespace() throws Exception {
        List<String> missing = new ArrayList<>();
        if (!ChildProcesses.isRoot()) {
            missing.add("root");
        }
        for (String tool : List.of("ip", "iptables", "ip6tables")) {
            if (!ChildProcesses.onPath(tool)) {
                missing.add(tool);
            }
        }
        if (!missing.isEmpty()) {
            String reason = "SO_ORIGINAL_DST end-to-end test needs " + String.join(", ", missing);
            throw Prerequisite.missing(reason);
        }
        byte[] random = new byte[4];
        new SecureRandom().nextBytes(random);
        namespace = "cs-native-" + HexFormat.of().formatHex(random);
        ChildProcesses.runOrFail("ip", "netns", "add", namespace);
        inNamespace("ip", "link", "set", "lo", "up");
        inNamespace("ip", "addr", "add", "198.18.0.1/15", "dev", "lo");
        inNamespace("ip", "-6", "addr", "add", "fd00:c5::1/64", "dev", "lo", "nodad");
        inNamespace("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", "198.18.0.99", "--dport", "80",
                "-j", "REDIRECT", "--to-ports", Integer.toString(V4_PORT));
        inNamespace("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", "198.18.0.98", "--dport", "443",
                "-j", "REDIRECT", "--to-ports", Integer.toString(DUAL_PORT));
        inNamespace("ip6tables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", "fd00:c5::99", "--dport", "80",
                "-j", "REDIRECT", "--to-ports", Integer.toString(DUAL_PORT));
    }

    @AfterAll
    static void deleteNamespace() throws Exception {
        if (namespace != null) {
            // The namespace takes its iptables rules and addresses with it.
            ChildProcesses.runOrFail("ip", "netns", "delete", namespace);
        }
    }

    @Test
    void redirectedConnectionsReportWhereTheyWereGoing() throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        command.addAll(ChildProcesses.javaCommand(OriginalDestinationProbe.class, "redirect",
                Integer.toString(V4_PORT), Integer.toString(DUAL_PORT),
                "v4=198.18.0.99:80", "dual=198.18.0.98:443", "dual=[fd00:c5::99]:80", "v4=127.0.0.1:" + V4_PORT));

        ChildProcesses.Result result = ChildProcesses.run(command);

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output().lines()).containsExactly(
                // IPv4 listener, SOL_IP.
                "target 198.18.0.99:80 local 127.0.0.1:18080 Inet4Address original 198.18.0.99:80 Inet4Address",
                // IPv4 client on the dual-stack listener: the kernel has it in the IPv4 table, so SOL_IP again.
                "target 198.18.0.98:443 local 127.0.0.1:18081 Inet4Address original 198.18.0.98:443 Inet4Address",
                // IPv6 client, SOL_IPV6 / IP6T_SO_ORIGINAL_DST.
                "target [fd00:c5::99]:80 local [0:0:0:0:0:0:0:1]:18081 Inet6Address "
                        + "original [fd00:c5:0:0:0:0:0:99]:80 Inet6Address",
                // Not redirected; conntrack is active here (nat rules), so the kernel reports the listener itself.
                "target 127.0.0.1:18080 local 127.0.0.1:18080 Inet4Address original 127.0.0.1:18080 Inet4Address");
    }

    private static void inNamespace(String... command) throws Exception {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        ChildProcesses.runOrFail(full.toArray(String[]::new));
    }
}
