package dev.chainsocks.e2e.fault;

import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.Prerequisites;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Load from inside a namespace against a {@link LoadServer}, through whatever redirects it on the way:
 * <ul>
 *   <li>{@link #churn}: many short echo connections, a few at a time;
 *   <li>{@link #streams} / {@link #startStreams}: concurrent long streams, every byte checked, optionally read slowly;
 *   <li>{@link #hold}: many connections opened and checked, held until {@link Held#release()}, then checked again.
 * </ul>
 * Every run is bounded by {@link #maxTime} and each step (connect, one read) by {@link #stepTimeout}. Failures are
 * counted by kind: {@code reset}, {@code refused}, {@code timeout}, {@code closed} (EOF too early), {@code corrupt}.
 */
final class LoadClient {

    enum StreamMode {
        /** The client sends the bytes and checks what the server echoes. */
        ECHO("echo"),
        /** The server sends the bytes; the client checks them. */
        DOWNLOAD("download");

        private final String wireName;

        StreamMode(String wireName) {
            this.wireName = wireName;
        }
    }

    /** A client's summary line: {@code <kind> total=N ok=N failed=N reasons=reset:3,timeout:1 ...}. */
    record Summary(String kind, int total, int ok, int failed, Map<String, Integer> reasons, long bytes,
                   long elapsedMillis, int notRun, String line) {

        static Summary parse(String line) {
            String[] words = line.strip().split(" ");
            Map<String, String> fields = new LinkedHashMap<>();
            for (int i = 1; i < words.length; i++) {
                int eq = words[i].indexOf('=');
                if (eq > 0) {
                    fields.put(words[i].substring(0, eq), words[i].substring(eq + 1));
                }
            }
            Map<String, Integer> reasons = new LinkedHashMap<>();
            String reasonText = fields.getOrDefault("reasons", "-");
            if (!reasonText.equals("-")) {
                for (String pair : reasonText.split(",")) {
                    int colon = pair.lastIndexOf(':');
                    reasons.put(pair.substring(0, colon), Integer.parseInt(pair.substring(colon + 1)));
                }
            }
            return new Summary(words[0], number(fields, "total"), number(fields, "ok"), number(fields, "failed"),
                    reasons, Long.parseLong(fields.getOrDefault("bytes", "0")),
                    Long.parseLong(fields.getOrDefault("elapsed_ms", "0")), number(fields, "notrun"), line);
        }

        private static int number(Map<String, String> fields, String key) {
            return Integer.parseInt(fields.getOrDefault(key, "0"));
        }

        boolean allOk() {
            return failed == 0 && notRun == 0 && ok == total && total > 0;
        }

        int reason(String kind) {
            return reasons.getOrDefault(kind, 0);
        }

        Duration elapsed() {
            return Duration.ofMillis(elapsedMillis);
        }

        @Override
        public String toString() {
            return line;
        }
    }

    private final Netns netns;
    private final Endpoint target;
    private Duration stepTimeout = Duration.ofSeconds(10);
    private Duration maxTime = Duration.ofSeconds(60);
    private int concurrency = 64;
    private String name = "load-client";

    private LoadClient(Netns netns, Endpoint target) {
        this.netns = netns;
        this.target = target;
    }

    static LoadClient in(Netns netns, Endpoint target) {
        return new LoadClient(netns, target);
    }

    LoadClient stepTimeout(Duration timeout) {
        this.stepTimeout = timeout;
        return this;
    }

    LoadClient maxTime(Duration time) {
        this.maxTime = time;
        return this;
    }

    LoadClient concurrency(int connections) {
        this.concurrency = connections;
        return this;
    }

    /** The log name of background clients. */
    LoadClient named(String logName) {
        this.name = logName;
        return this;
    }

    /** {@code count} short connections, each echoing {@code bytes}, {@link #concurrency} at a time. */
    Summary churn(int count, int bytes) {
        return runToEnd(command("churn", count, "--bytes", Long.toString(bytes)), "churn ");
    }

    /** {@code count} concurrent streams of {@code bytes}, read at {@code readRate} bytes/s each (0: at once). */
    Summary streams(StreamMode mode, int count, long bytes, long readRate) {
        return runToEnd(streamCommand(mode, count, bytes, readRate), "streams ");
    }

    Running startStreams(StreamMode mode, int count, long bytes, long readRate) {
        return new Running(netns.spawn(name, streamCommand(mode, count, bytes, readRate)));
    }

    /** Opens {@code count} connections, each checked with an echo, and returns once every attempt is done. */
    Held hold(int count) {
        Held held = startHold(count);
        held.opened();
        return held;
    }

    /** Starts opening {@code count} connections in the background; {@link Held#opened()} waits for the attempts. */
    Held startHold(int count) {
        return new Held(netns.spawn(name, command("hold", count)));
    }

    private List<String> streamCommand(StreamMode mode, int count, long bytes, long readRate) {
        return command("streams", count, "--mode", mode.wireName, "--bytes", Long.toString(bytes),
                "--read-rate", Long.toString(readRate));
    }

    private List<String> command(String program, int count, String... more) {
        String script = LoadScript.writeTo(netns.workspace()).toString();
        List<String> command = new ArrayList<>(List.of(Prerequisites.PYTHON, "-u", script, program,
                "--host", target.host(), "--port", Integer.toString(target.port()),
                "--count", Integer.toString(count), "--concurrency", Integer.toString(concurrency),
                "--timeout", Double.toString(stepTimeout.toMillis() / 1000.0),
                "--max-seconds", Double.toString(maxTime.toMillis() / 1000.0)));
        command.addAll(List.of(more));
        return command;
    }

    private Summary runToEnd(List<String> command, String prefix) {
        Command.Result result = Command.run(netns.wrap(command), maxTime.plusSeconds(30));
        return result.stdout().lines().filter(line -> line.startsWith(prefix)).findFirst().map(Summary::parse)
                .orElseThrow(() -> new IllegalStateException("load client printed no summary\n" + result.describe()));
    }

    /** Waits for the first line of a background client that starts with {@code prefix}. */
    private String firstLine(ManagedProcess process, String prefix) {
        return process.awaitLogLines(line -> line.startsWith(prefix), 1, maxTime.plusSeconds(30)).get(0);
    }

    /** Streams running in the background. */
    final class Running {
        private final ManagedProcess process;

        private Running(ManagedProcess process) {
            this.process = process;
        }

        /** Waits until {@code count} streams have received their first bytes. */
        void awaitFlowing(int count, Duration timeout) {
            process.awaitLogLines(line -> line.startsWith("flowing "), count, timeout);
        }

        /** The {@code stream index=N outcome=... bytes=...} lines of streams that have ended. */
        List<String> endedStreams() {
            return process.logLines().stream().filter(line -> line.startsWith("stream ")).toList();
        }

        Summary await() {
            return Summary.parse(firstLine(process, "streams "));
        }
    }

    /** Connections held open. */
    final class Held {
        private final ManagedProcess process;
        private Summary opened;

        private Held(ManagedProcess process) {
            this.process = process;
        }

        /** The outcome of every attempt to open, waiting until all are done. */
        synchronized Summary opened() {
            if (opened == null) {
                opened = Summary.parse(firstLine(process, "opened "));
            }
            return opened;
        }

        /** Checks every held connection with one more echo, then closes it (SIGUSR1 to the client). */
        Summary release() {
            Command.run(List.of("kill", "-USR1", Long.toString(process.pid())), Command.DEFAULT_TIMEOUT)
                    .requireSuccess();
            Summary released = Summary.parse(firstLine(process, "released "));
            process.stop();
            return released;
        }
    }
}
