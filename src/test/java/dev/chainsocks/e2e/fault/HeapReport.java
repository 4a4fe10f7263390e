package dev.chainsocks.e2e.fault;

import dev.chainsocks.e2e.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Live heap of a running JVM, for sizing {@code -Xmx}: a full collection ({@code jcmd PID GC.run}), then the
 * used size of every generation from {@code jcmd PID GC.heap_info}. Needs the JDK's jcmd next to the running java;
 * empty when it is not there (a JRE) or the JVM does not answer.
 */
final class HeapReport {

    private static final Pattern USED = Pattern.compile("\\bused (\\d+)K");

    private HeapReport() {
    }

    /**
     * Writes what the JVM says about its memory without collecting first: the heap's generations, the direct
     * buffers on the heap (class histogram), and, when it runs with {@code -XX:NativeMemoryTracking}, the native
     * memory summary. For finding where RSS went; nothing is asserted on it.
     */
    static void describe(long pid, Path file) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return;
        }
        StringBuilder text = new StringBuilder();
        for (String command : List.of("GC.heap_info", "VM.native_memory summary", "GC.class_histogram -all")) {
            List<String> words = new ArrayList<>(List.of(jcmd.toString(), Long.toString(pid)));
            words.addAll(List.of(command.split(" ")));
            Command.Result result = Command.run(words, Duration.ofSeconds(60));
            String out = result.stdout();
            if (command.startsWith("GC.class_histogram")) {
                out = out.lines().filter(line -> line.contains("num ") || line.contains("DirectByteBuffer")
                        || line.contains("Total")).collect(Collectors.joining("\n", "", "\n"));
            }
            text.append("### jcmd ").append(command).append('\n').append(out).append('\n');
        }
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static OptionalLong liveHeapKib(long pid) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return OptionalLong.empty();
        }
        Duration timeout = Duration.ofSeconds(30);
        Command.Result gc = Command.run(List.of(jcmd.toString(), Long.toString(pid), "GC.run"), timeout);
        Command.Result info = Command.run(List.of(jcmd.toString(), Long.toString(pid), "GC.heap_info"), timeout);
        if (!gc.succeeded() || !info.succeeded()) {
            return OptionalLong.empty();
        }
        long used = 0;
        boolean found = false;
        for (String line : info.stdout().lines().toList()) {
            // Serial: "def new generation ... used NK", "tenured generation ... used NK"; G1: "garbage-first heap"
            if (line.contains("generation") || line.contains("garbage-first heap")) {
                Matcher matcher = USED.matcher(line);
                if (matcher.find()) {
                    used += Long.parseLong(matcher.group(1));
                    found = true;
                }
            }
        }
        return found ? OptionalLong.of(used) : OptionalLong.empty();
    }
}
