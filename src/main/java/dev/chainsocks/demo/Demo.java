package dev.chainsocks.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code chainsocks demo}: shows the whole product working in a sandbox of three network namespaces, with nothing
 * installed and nothing on the host changed.
 * <pre>
 *  lan: a program fetches http://198.19.2.2/ and knows nothing about proxies
 *   gw: iptables REDIRECT sends it to chainsocks run, which reads the original destination
 *       and dials it through   socks5://198.19.2.2:1080  ->  socks4a://198.19.2.2:1081
 *  wan: two bundled chainsocks socks-server hops and a small web server
 * </pre>
 */
public final class Demo {

    static final int WEB_PORT = 80;
    static final int HOP1_PORT = 1080;
    static final int HOP2_PORT = 1081;
    static final int REDIRECT_PORT = 12345;
    private static final Duration READY = Duration.ofSeconds(30);

    private final PrintStream out;
    private final List<String> java;
    private final List<DemoProcess> processes = new ArrayList<>();

    public Demo(PrintStream out) throws IOException {
        this.out = out;
        this.java = selfCommand();
    }

    /** The command that starts this same chainsocks: the running java with the running jar or classpath. */
    private static List<String> selfCommand() throws IOException {
        String javaBinary = ProcessHandle.current().info().command().orElse("java");
        Path location;
        try {
            location = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException("cannot tell where chainsocks is installed", e);
        }
        List<String> command = new ArrayList<>(List.of(javaBinary,
                "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"));
        if (Files.isRegularFile(location)) {
            command.addAll(List.of("-jar", location.toString()));
        } else {
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.chainsocks.cli.Main"));
        }
        return command;
    }

    /** Runs the demo; returns true when the page arrived through the chain. */
    public boolean run() throws IOException, InterruptedException {
        out.println("Building a sandbox: namespaces lan -> gw -> wan (the host's network is not touched)");
        try (Sandbox sandbox = Sandbox.create()) {
            try {
                return runIn(sandbox);
            } finally {
                for (int i = processes.size() - 1; i >= 0; i--) {
                    processes.get(i).close();
                }
                out.println("Tearing the sandbox down.");
            }
        }
    }

    private boolean runIn(Sandbox sandbox) throws IOException, InterruptedException {
        String wan = Sandbox.WAN_IP;
        out.println("wan: starting a web server on " + wan + ":" + WEB_PORT + " and two SOCKS hops on ports "
                + HOP1_PORT + " and " + HOP2_PORT);
        DemoProcess web = start("web", sandbox.wan, "demo-web", "--listen", wan + ":" + WEB_PORT);
        DemoProcess hop1 = start("hop 1", sandbox.wan, "socks-server", "--listen", wan + ":" + HOP1_PORT,
                "--allow-from", "198.18.0.0/15");
        DemoProcess hop2 = start("hop 2", sandbox.wan, "socks-server", "--listen", wan + ":" + HOP2_PORT,
                "--allow-from", "198.18.0.0/15");
        web.await(line -> line.contains("serving"), READY);
        hop1.await(line -> line.contains("listening on"), READY);
        hop2.await(line -> line.contains("listening on"), READY);

        String rule = "iptables -t nat -A PREROUTING -i gw-lan -p tcp -j REDIRECT --to-ports " + REDIRECT_PORT;
        out.println("gw:  " + rule);
        sandbox.in(sandbox.gw, rule.split(" "));
        String hops = "--via socks5://" + wan + ":" + HOP1_PORT + " --via socks4a://" + wan + ":" + HOP2_PORT;
        out.println("gw:  chainsocks run --listen 0.0.0.0:" + REDIRECT_PORT + " " + hops);
        List<String> runArgs = new ArrayList<>(List.of("run", "--listen", "0.0.0.0:" + REDIRECT_PORT,
                "--control-socket", "/run/" + sandbox.gw + ".sock"));
        runArgs.addAll(List.of(hops.split(" ")));
        DemoProcess redirector = start("chainsocks run", sandbox.gw, runArgs.toArray(String[]::new));
        redirector.await(line -> line.contains("listening on"), READY);

        String url = "http://" + wan + ":" + WEB_PORT + "/";
        out.println("lan: fetching " + url + " with a plain HTTP client (no proxy settings)");
        DemoProcess fetch = start("fetch", sandbox.lan, "demo-fetch", url);
        int exit = fetch.waitFor(Duration.ofSeconds(30));
        out.println();
        out.println("---- what the lan client received ----");
        fetch.lines().forEach(line -> out.println("  " + line));
        String ended = redirector.await(line -> line.contains(" end ") || line.contains(" refused "),
                Duration.ofSeconds(10));
        out.println("---- chainsocks access log in gw ----");
        redirector.lines().stream().filter(line -> line.contains("session ")).forEach(line -> out.println("  " + line));
        out.println("---- the hops in wan ----");
        hop1.lines().stream().filter(line -> line.contains("session ")).forEach(line -> out.println("  hop 1: " + line));
        hop2.lines().stream().filter(line -> line.contains("session ")).forEach(line -> out.println("  hop 2: " + line));
        out.println("---- web server in wan ----");
        web.lines().stream().filter(line -> line.contains("GET")).forEach(line -> out.println("  " + line));
        out.println();
        boolean ok = exit == 0 && ended.contains("outcome=ok");
        out.println(ok
                ? "The connection to " + wan + ":" + WEB_PORT + " was redirected in gw, chainsocks recovered its "
                        + "original destination (dst= above) and carried it through both hops."
                : "The demo did not complete; the output above says where it stopped.");
        return ok;
    }

    private DemoProcess start(String name, String namespace, String... args) throws IOException {
        List<String> command = new ArrayList<>(java);
        command.addAll(List.of(args));
        DemoProcess process = DemoProcess.start(name, Sandbox.inside(namespace, command));
        processes.add(process);
        return process;
    }
}
