package dev.chainsocks.cli;

import dev.chainsocks.demo.Demo;
import dev.chainsocks.demo.DemoFetch;
import dev.chainsocks.demo.DemoWeb;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code chainsocks demo} and the two helpers it runs inside its sandbox. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Shows chainsocks working, in a throwaway sandbox of network namespaces (needs root, ip and "
                + "iptables; the host's own network and firewall are not touched):",
                "a lan client's plain HTTP request is REDIRECTed in gw to 'chainsocks run', which reads the original "
                        + "destination and carries it through two bundled SOCKS hops in wan.",
                "Prints what the client got and the access-log lines, then removes everything."})
final class DemoCommand implements Callable<Integer> {

    @ParentCommand
    Main root;

    @Override
    public Integer call() throws Exception {
        root.configureLogging("warn");
        if (!isRoot()) {
            throw new Main.UsageException("the demo creates network namespaces and iptables rules: run it as root "
                    + "(sudo chainsocks demo)");
        }
        for (String tool : new String[] {"ip", "iptables"}) {
            if (!onPath(tool)) {
                throw new Main.UsageException("the demo needs '" + tool + "' (Debian/Ubuntu: apt-get install "
                        + (tool.equals("ip") ? "iproute2" : "iptables") + ")");
            }
        }
        return new Demo(System.out).run() ? Main.EXIT_OK : Main.EXIT_FAILURE;
    }

    private static boolean isRoot() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return line.split("\\s+")[1].equals("0");
            }
        }
        return false;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool));
    }

    @Command(name = "demo-web", hidden = true, description = "The demo's web server.")
    static final class Web implements Callable<Integer> {
        @Option(names = "--listen", required = true, converter = HostPort.class)
        InetSocketAddress listen;

        @Override
        public Integer call() throws Exception {
            DemoWeb.serve(listen);
            return Main.EXIT_OK;
        }
    }

    @Command(name = "demo-fetch", hidden = true, description = "The demo's proxy-unaware HTTP client.")
    static final class Fetch implements Callable<Integer> {
        @Parameters(index = "0")
        URI url;

        @Override
        public Integer call() throws Exception {
            return DemoFetch.fetch(url) ? Main.EXIT_OK : Main.EXIT_FAILURE;
        }
    }
}
