package dev.chainsocks.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket of a process that has used up its file descriptors still answers. The server runs in a child
 * JVM ({@link ControlServerUnderFdLimit}) started under {@code ulimit -n 256}, which opens /dev/null until open fails;
 * this JVM, which has descriptors, is the client.
 */
@Timeout(120)
class ControlServerFdLimitTest {

    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private Process child;
    private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        if (child != null) {
            child.getOutputStream().close();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void statusIsAnsweredWhenTheProcessIsOutOfDescriptors() throws Exception {
        try {
            outOfDescriptors();
        } catch (Exception | AssertionError e) {
            throw new AssertionError(e + "\nthe child's log:\n" + String.join("\n", stderr), e);
        }
    }

    private void outOfDescriptors() throws Exception {
        Path socket = dir.resolve("control.sock");
        startChild(socket);
        expectLine("listening");
        command("fill");
        assertThat(expectLine("filled ")).contains("Too many open files");

        // The answer comes from a handler that could not open a file: the process really was out of descriptors.
        assertThat(ControlClient.send(socket, "status", CLIENT_TIMEOUT))
                .isEqualTo("status: out of descriptors (/dev/null (Too many open files))\n");

        // Several at once: one is served on the spare descriptor, the others wait in the backlog for it, and none
        // of them sees a broken pipe.
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String request = "status " + i;
                answers.add(clients.submit(() -> ControlClient.send(socket, request, CLIENT_TIMEOUT)));
            }
            for (int i = 0; i < 4; i++) {
                assertThat(answers.get(i).get(60, TimeUnit.SECONDS))
                        .isEqualTo("status " + i + ": out of descriptors (/dev/null (Too many open files))\n");
            }
        } finally {
            clients.shutdownNow();
        }
        // The log is written asynchronously: wait for the line rather than read what has arrived so far.
        awaitStderr("control socket " + socket
                + ": cannot accept (Too many open files); retrying while the process frees descriptors");

        command("free");
        expectLine("freed");
        assertThat(ControlClient.send(socket, "status", CLIENT_TIMEOUT)).isEqualTo("status: a descriptor was free\n");
        assertThat(stderr).noneMatch(line -> line.contains("cannot keep a spare descriptor"));
    }

    private void awaitStderr(String text) throws InterruptedException {
        synchronized (stderr) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (stderr.stream().noneMatch(line -> line.contains(text))) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("the child did not log \"" + text + "\"; stderr:\n"
                            + String.join("\n", stderr));
                }
                TimeUnit.NANOSECONDS.timedWait(stderr, left);
            }
        }
    }

    private void startChild(Path socket) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The JVM opens files of its own now and then: with container support, a compiler thread reads the cgroup's
        // memory limit while it decides on more compiler threads, and glibc reads overcommit_memory when it first
        // shrinks a thread's malloc arena. Each takes a free descriptor for a moment, which here is the spare the
        // server has just closed. The server copes (it opens the spare again later), but this test counts
        // descriptors exactly, so the child runs without those.
        List<String> command = List.of("bash", "-c", "ulimit -n 256 && exec \"$@\"", "bash",
                java, "-XX:-UseContainerSupport", "-XX:-UseDynamicNumberOfCompilerThreads",
                "-cp", System.getProperty("java.class.path"), ControlServerUnderFdLimit.class.getName(),
                socket.toString());
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("MALLOC_ARENA_MAX", "1");
        child = builder.start();
        pump(child.getInputStream(), stdout, "control-child-stdout");
        pump(child.getErrorStream(), stderr, "control-child-stderr");
    }

    private static void pump(InputStream stream, java.util.Collection<String> lines, String name) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    lines.add(line);
                    synchronized (lines) {
                        lines.notifyAll();
                    }
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
        String line = stdout.poll(30, TimeUnit.SECONDS);
        if (line == null || !line.startsWith(prefix)) {
            throw new AssertionError("expected a line starting with \"" + prefix + "\" from the child, got " + line
                    + "; stderr: " + String.join("\n", stderr));
        }
        return line;
    }
}
