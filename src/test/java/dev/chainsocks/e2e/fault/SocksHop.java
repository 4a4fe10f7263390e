package dev.chainsocks.e2e.fault;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.Netns;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A proxy of the chains under test: the bundled {@code chainsocks socks-server} in {@code wan}, admitting the test
 * networks. It can be killed (SIGKILL, as a crash or an OOM kill would end it) and started again on the same port.
 */
final class SocksHop implements AutoCloseable {

    private final Netns netns;
    private final String name;
    private final Endpoint listen;
    private final List<String> options;
    private ChainsocksProcess process;
    private int starts;

    private SocksHop(Netns netns, String name, Endpoint listen, List<String> options) {
        this.netns = netns;
        this.name = name;
        this.listen = listen;
        this.options = List.copyOf(options);
    }

    /** Starts without waiting; call {@link #awaitListening()} once every hop is starting, so JVMs start together. */
    static SocksHop start(Netns netns, String name, Endpoint listen, String... options) {
        SocksHop hop = new SocksHop(netns, name, listen, List.of(options));
        hop.launch();
        return hop;
    }

    private void launch() {
        List<String> args = new ArrayList<>(List.of("socks-server", "--listen", listen.toString(),
                "--allow-from", "198.18.0.0/15", "--allow-from", "fd00::/8"));
        args.addAll(options);
        starts++;
        process = ChainsocksProcess.start(netns, starts == 1 ? name : name + "-" + starts, args.toArray(String[]::new));
    }

    SocksHop awaitListening() {
        process.waitForPort(listen);
        return this;
    }

    String uri() {
        return "socks5://" + listen;
    }

    /** SIGKILL, and waits until it is gone: the kernel then closes its sockets, resetting those with unread data. */
    void kill() {
        ProcessHandle handle = ProcessHandle.of(process.pid()).orElseThrow(
                () -> new IllegalStateException(name + " is not running"));
        handle.destroyForcibly();
        try {
            handle.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(name + " did not exit after SIGKILL", e);
        }
    }

    /** A new process on the same port; returns once it listens. */
    SocksHop restart() {
        launch();
        return awaitListening();
    }

    @Override
    public void close() {
        process.stop();
    }

    @Override
    public String toString() {
        return name + " " + listen;
    }
}
