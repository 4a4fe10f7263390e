package dev.chainsocks.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.testsupport.Eventually;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The acceptor when {@code accept()} fails for want of file descriptors (EMFILE). The acceptor runs in a child JVM
 * ({@link AcceptorUnderFdLimit}) started under {@code ulimit -n 256}, which opens /dev/null until it is really out
 * of descriptors; the test then queues connections in the listen backlog and watches the child's log, its CPU time
 * (from {@code /proc/PID/stat}) and its accepts.
 */
@Timeout(120)
class AcceptorTest {

    /** USER_HZ, the unit of /proc/PID/stat times: 100 on Linux ({@code getconf CLK_TCK}). */
    private static final long CLOCK_TICKS_PER_SECOND = 100;
    private static final Pattern PAUSE = Pattern.compile("accept failed \\(([^)]*)\\); pausing accepts for (\\d+) ms");

    private Process child;
    private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private final List<Socket> clients = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Socket client : clients) {
            client.close();
        }
        if (child != null) {
            child.getOutputStream().close();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void outOfDescriptorsPausesAcceptsWithGrowingBackoffWithoutSpinningThenAcceptsAgain() throws Exception {
        startChild();
        int port = Integer.parseInt(expectLine("listening ").substring("listening ".length()));
        connect(port);
        expectLine("accepted 1");

        command("fill 2");
        assertThat(expectLine("filled ")).contains("Too many open files");

        int queued = 10;
        for (int i = 0; i < queued; i++) {
            connect(port);
        }
        expectLine("accepted 2");
        expectLine("accepted 3");
        awaitStderr("the first pause", () -> pauses().size() >= 1);

        long cpuBefore = childCpuTicks();
        assertThat(cpuBefore).as("CPU ticks the child used to start (checks the measurement works)").isPositive();
        // Pauses of 10, 20, 40, 80, 160, 320 and 640 ms: the 8th pause line comes after at least 1.27 s of
        // paused accepts, however slow the machine is.
        awaitStderr("the eighth pause", () -> pauses().size() >= 8);
        long cpuDuring = childCpuTicks() - cpuBefore;

        assertThat(cpuDuring).as("child CPU ticks (1/%d s) over 1.27 s or more of paused accepts",
                CLOCK_TICKS_PER_SECOND).isLessThan(CLOCK_TICKS_PER_SECOND * 2 / 5);
        assertThat(stdout.poll()).as("nothing accepted while out of descriptors").isNull();
        List<Long> pauses = pauses();
        assertThat(pauses.subList(0, 8)).as("backoff in ms").containsExactly(10L, 20L, 40L, 80L, 160L, 320L, 640L,
                1000L);
        assertThat(stderr).filteredOn(line -> line.contains("pausing accepts"))
                .allSatisfy(line -> assertThat(line).contains("Too many open files"));

        command("free");
        expectLine("freed");
        // the connections that waited in the backlog are all accepted now
        for (int accepted = 4; accepted <= queued + 1; accepted++) {
            expectLine("accepted " + accepted);
        }
        assertThat(stderr).noneMatch(line -> line.contains("stopped by an unexpected error"));
        assertThat(child.isAlive()).isTrue();
    }

    private void startChild() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of("bash", "-c", "ulimit -n 256 && exec \"$@\"", "bash",
                java, "-cp", System.getProperty("java.class.path"), AcceptorUnderFdLimit.class.getName());
        child = new ProcessBuilder(command).start();
        pump(child.getInputStream(), stdout, "acceptor-child-stdout");
        pump(child.getErrorStream(), stderr, "acceptor-child-stderr");
    }

    private static void pump(InputStream stream, java.util.Collection<String> lines, String name) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the child is gone
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void command(String line) throws IOException {
        OutputStream in = child.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        in.flush();
    }

    private String expectLine(String prefix) throws InterruptedException {
        String line = stdout.poll(20, TimeUnit.SECONDS);
        if (line == null || !line.startsWith(prefix)) {
            throw new AssertionError("expected a line starting with \"" + prefix + "\" from the child, got " + line
                    + "; stderr: " + String.join("\n", stderr));
        }
        return line;
    }

    private void connect(int port) throws IOException {
        Socket client = new Socket();
        clients.add(client);
        client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
    }

    /** The backoffs logged so far, in ms, in order. */
    private List<Long> pauses() {
        List<Long> found = new ArrayList<>();
        for (String line : stderr) {
            Matcher m = PAUSE.matcher(line);
            if (m.find()) {
                found.add(Long.parseLong(m.group(2)));
            }
        }
        return found;
    }

    private void awaitStderr(String what, java.util.function.BooleanSupplier condition) {
        Eventually.until(Duration.ofSeconds(20), condition, () -> what + "; stderr: " + String.join("\n", stderr));
    }

    /** utime + stime of the child, in clock ticks, from /proc/PID/stat (fields 14 and 15). */
    private long childCpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(child.pid()), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
