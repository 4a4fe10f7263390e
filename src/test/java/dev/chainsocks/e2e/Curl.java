package dev.chainsocks.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** curl run inside a namespace, as a client program would: {@code curl -sS --fail --max-time 30 <options> <url>}. */
public final class Curl {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Curl() {
    }

    /** Fetches {@code url}, returning the body; throws with curl's error text if the transfer fails. */
    public static String get(Netns netns, String url, String... options) {
        return run(netns, url, options).requireSuccess().stdout();
    }

    /** Fetches {@code url} whatever the outcome; the exit code says how it failed (7 refused, 28 timeout, ...). */
    public static Command.Result run(Netns netns, String url, String... options) {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "30",
                "--connect-timeout", "10"));
        command.addAll(List.of(options));
        command.add(url);
        return netns.run(TIMEOUT, command.toArray(String[]::new));
    }

    /** Downloads {@code url} into {@code file} (outside the namespace's view nothing changes: same filesystem). */
    public static void download(Netns netns, String url, Path file, String... options) {
        List<String> all = new ArrayList<>(List.of(options));
        all.add("--output");
        all.add(file.toString());
        run(netns, url, all.toArray(String[]::new)).requireSuccess();
    }

    static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
