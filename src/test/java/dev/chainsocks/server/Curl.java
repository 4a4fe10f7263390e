package dev.chainsocks.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** curl, run once per request, with the status codes it saw written after the body. */
final class Curl {

    private static final String MARKER = "\n--curl-status--";

    /** What one curl run gave: exit code, body, {@code %{http_code}} and {@code %{http_connect}}. */
    record Response(int exitCode, String body, int httpCode, int connectCode, String describe) {
    }

    private final ExternalClient curl;

    private Curl(ExternalClient curl) {
        this.curl = curl;
    }

    static Curl require() {
        return new Curl(ExternalClient.require("curl", "curl"));
    }

    /** Runs {@code curl -sS --max-time 10 ARGS} and splits what it printed. */
    Response fetch(String... args) {
        List<String> command = new ArrayList<>(List.of("-sS", "--max-time", "10", "--connect-timeout", "5",
                "--write-out", MARKER + " %{http_code} %{http_connect}"));
        command.addAll(List.of(args));
        ExternalClient.Result result = curl.run(Duration.ofSeconds(20), command.toArray(String[]::new));
        String out = result.stdout();
        int marker = out.lastIndexOf(MARKER);
        if (marker < 0) {
            throw new AssertionError("no status line from curl\n" + result.describe());
        }
        String[] codes = out.substring(marker + MARKER.length()).trim().split(" ");
        return new Response(result.exitCode(), out.substring(0, marker), Integer.parseInt(codes[0]),
                Integer.parseInt(codes[1]), result.describe());
    }
}
