package dev.chainsocks.e2e.fault;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Netns;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code chainsocks run --config FILE} in a namespace with chosen JVM options and, optionally, its own open files
 * limit ({@code ulimit -n N}, soft and hard, set by the shell that then execs java, so the PID is java's), and the
 * means to watch it: {@link #gauge()} for memory, descriptors and CPU, {@link #log()} for its log.
 */
final class ChainsocksUnderLoad implements AutoCloseable {

    private final ManagedProcess process;
    private final ProcessGauge gauge;
    private final LogTail log;

    private ChainsocksUnderLoad(ManagedProcess process, boolean keepRoutineLines) {
        this.process = process;
        this.gauge = ProcessGauge.of(process.pid());
        this.log = keepRoutineLines ? LogTail.keepingAll(process.logFile()) : LogTail.keepingNotable(process.logFile());
    }

    /**
     * Starts it; {@code openFiles} &le; 0 keeps the limit this JVM has. {@code keepRoutineLines} false drops the
     * start and clean end lines from {@link #log()} (for soaks), true keeps every line.
     */
    static ChainsocksUnderLoad start(Netns netns, String logName, JvmFlags flags, int openFiles, Path config,
            boolean keepRoutineLines) {
        List<String> java = new ArrayList<>(ChainsocksProcess.command(netns.workspace(), "run", "--config", config.toString()));
        // the JVM's own options go right after the java executable (the harness may put env and its settings first)
        int executable = java.indexOf(java.stream().filter(part -> part.endsWith("/bin/java")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no java executable in " + java)));
        java.addAll(executable + 1, flags.options());
        List<String> command = new ArrayList<>();
        if (openFiles > 0) {
            command.addAll(List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$@\"", "bash"));
        }
        command.addAll(java);
        return new ChainsocksUnderLoad(netns.spawn(logName, command), keepRoutineLines);
    }

    ChainsocksUnderLoad waitForPort(String host, int port) {
        process.waitForPort(host, port, ChainsocksProcess.START_TIMEOUT);
        return this;
    }

    long pid() {
        return process.pid();
    }

    ProcessGauge gauge() {
        return gauge;
    }

    LogTail log() {
        return log;
    }

    /** SIGHUP: read the configuration file again. */
    void sighup() {
        Command.run(List.of("kill", "-HUP", Long.toString(pid())), Command.DEFAULT_TIMEOUT).requireSuccess();
    }

    /** Changes the open files limit of the running process (soft and hard) with prlimit(1). */
    void setOpenFilesLimit(long files) {
        Command.run(List.of("prlimit", "--pid", Long.toString(pid()), "--nofile=" + files + ":" + files),
                Command.DEFAULT_TIMEOUT).requireSuccess();
    }

    int stop() {
        return process.stop();
    }

    @Override
    public void close() {
        process.stop();
    }

    @Override
    public String toString() {
        return "chainsocks " + process;
    }
}
