package dev.chainsocks.e2e.fault;

import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.Prerequisites;
import java.time.Duration;

/**
 * The destination of the load: {@code fault_load.py server} on all addresses of a namespace, answering
 * {@code ECHO} and {@code SOURCE n} connections (see {@link LoadScript}), any number at once.
 */
final class LoadServer implements AutoCloseable {

    private final ManagedProcess process;
    private final Netns netns;
    private final int port;

    private LoadServer(ManagedProcess process, Netns netns, int port) {
        this.process = process;
        this.netns = netns;
        this.port = port;
    }

    static LoadServer start(Netns netns, int port) {
        String script = LoadScript.writeTo(netns.workspace()).toString();
        ManagedProcess process = netns.spawn("load-server-" + port, Prerequisites.PYTHON, "-u", script, "server",
                "--bind", "::", "--port", Integer.toString(port));
        process.waitForPort("::", port, Duration.ofSeconds(20));
        return new LoadServer(process, netns, port);
    }

    @Override
    public void close() {
        process.stop();
    }

    @Override
    public String toString() {
        return "load server :" + port + " in " + netns.name();
    }
}
