package dev.chainsocks.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Three throwaway network namespaces wired like a small home network, so the demo never touches the host's own
 * interfaces, routes or firewall:
 * <pre>
 *   lan 198.18.1.2 --veth-- 198.18.1.1 gw 198.19.2.1 --veth-- 198.19.2.2 wan
 * </pre>
 * {@code lan} routes everything through {@code gw}; {@code gw} forwards and is where the REDIRECT rule and
 * chainsocks live; {@code wan} holds the proxies and the web server.
 */
final class Sandbox implements AutoCloseable {

    static final String LAN_IP = "198.18.1.2";
    static final String GW_LAN_IP = "198.18.1.1";
    static final String GW_WAN_IP = "198.19.2.1";
    static final String WAN_IP = "198.19.2.2";

    final String lan;
    final String gw;
    final String wan;
    private final List<String> created = new ArrayList<>();

    private Sandbox(String prefix) {
        this.lan = prefix + "-lan";
        this.gw = prefix + "-gw";
        this.wan = prefix + "-wan";
    }

    static Sandbox create() throws IOException, InterruptedException {
        Sandbox sandbox = new Sandbox("chainsocks-demo-" + ProcessHandle.current().pid());
        boolean success = false;
        try {
            sandbox.build();
            success = true;
            return sandbox;
        } finally {
            if (!success) {
                sandbox.close();
            }
        }
    }

    private void build() throws IOException, InterruptedException {
        for (String namespace : List.of(lan, gw, wan)) {
            run("ip", "netns", "add", namespace);
            created.add(namespace);
            in(namespace, "ip", "link", "set", "lo", "up");
        }
        run("ip", "link", "add", "lan0", "netns", lan, "type", "veth", "peer", "name", "gw-lan", "netns", gw);
        run("ip", "link", "add", "gw-wan", "netns", gw, "type", "veth", "peer", "name", "wan0", "netns", wan);
        in(lan, "ip", "addr", "add", LAN_IP + "/24", "dev", "lan0");
        in(lan, "ip", "link", "set", "lan0", "up");
        in(lan, "ip", "route", "add", "default", "via", GW_LAN_IP);
        in(gw, "ip", "addr", "add", GW_LAN_IP + "/24", "dev", "gw-lan");
        in(gw, "ip", "addr", "add", GW_WAN_IP + "/24", "dev", "gw-wan");
        in(gw, "ip", "link", "set", "gw-lan", "up");
        in(gw, "ip", "link", "set", "gw-wan", "up");
        in(gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        in(wan, "ip", "addr", "add", WAN_IP + "/24", "dev", "wan0");
        in(wan, "ip", "link", "set", "wan0", "up");
        in(wan, "ip", "route", "add", "default", "via", GW_WAN_IP);
    }

    /** The prefix that runs a command inside a namespace. */
    static List<String> inside(String namespace, List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(command);
        return full;
    }

    String in(String namespace, String... command) throws IOException, InterruptedException {
        return run(inside(namespace, List.of(command)).toArray(String[]::new));
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 30 s");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): "
                    + output.strip());
        }
        return output;
    }

    /** Deletes the namespaces; their veth pairs and iptables rules go with them. */
    @Override
    public void close() {
        for (int i = created.size() - 1; i >= 0; i--) {
            String namespace = created.get(i);
            try {
                run("ip", "netns", "delete", namespace);
            } catch (IOException | InterruptedException e) {
                System.err.println("chainsocks demo: could not delete namespace " + namespace + ": "
                        + e.getMessage() + " (remove it with: ip netns delete " + namespace + ")");
            }
        }
        created.clear();
    }
}
