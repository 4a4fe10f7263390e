package dev.chainsocks.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sends deterministic pseudo-random bytes to a {@link ByteStreamServer} from inside a namespace and checks, by
 * SHA-256, that what comes back is exactly what should: the same bytes ({@link Mode#ECHO}), or — after the client
 * shut down its sending side — the server's digest of what it received plus a reply of known content
 * ({@link Mode#REPLY_AFTER_HALF_CLOSE}).
 */
public final class ByteStreamClient {

    public enum Mode {
        ECHO("echo"),
        REPLY_AFTER_HALF_CLOSE("reply");

        private final String wireName;

        Mode(String wireName) {
            this.wireName = wireName;
        }
    }

    /** What the client saw; {@link #ok()} is true only if every count and digest matched. */
    public record Result(Mode mode, long sentBytes, long receivedBytes, long expectedReceivedBytes,
                         long serverReceivedBytes, long elapsedMillis, String error, boolean ok, String raw) {

        @Override
        public String toString() {
            return mode + " sent=" + sentBytes + " received=" + receivedBytes + "/" + expectedReceivedBytes
                    + " server_received=" + serverReceivedBytes + " elapsed_ms=" + elapsedMillis
                    + (error.isEmpty() ? "" : " error=" + error) + " ok=" + ok;
        }
    }

    private final Netns netns;
    private final Endpoint target;
    private Endpoint socks5;
    private Credentials socks5Credentials;
    private Duration timeout = Duration.ofMinutes(4);
    private long seed = 42;

    private ByteStreamClient(Netns netns, Endpoint target) {
        this.netns = netns;
        this.target = target;
    }

    /** A client in {@code netns} for the server at {@code target}. */
    public static ByteStreamClient in(Netns netns, Endpoint target) {
        return new ByteStreamClient(netns, target);
    }

    /** Connects through a SOCKS5 proxy (PySocks, name resolved by the proxy) instead of directly. */
    public ByteStreamClient viaSocks5(Endpoint proxy, Credentials credentials) {
        this.socks5 = proxy;
        this.socks5Credentials = credentials;
        return this;
    }

    public ByteStreamClient timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
    }

    public ByteStreamClient seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** Sends {@code bytes} and expects them back. */
    public Result echo(long bytes) {
        return run(Mode.ECHO, bytes, 0);
    }

    /** Sends {@code sendBytes}, half-closes, then expects the server's digest and {@code replyBytes}. */
    public Result replyAfterHalfClose(long sendBytes, long replyBytes) {
        return run(Mode.REPLY_AFTER_HALF_CLOSE, sendBytes, replyBytes);
    }

    public Result run(Mode mode, long sendBytes, long replyBytes) {
        String script = ByteStreamScript.writeTo(netns.workspace()).toString();
        List<String> command = new ArrayList<>(List.of(Prerequisites.PYTHON, script, "client",
                "--host", target.host(), "--port", Integer.toString(target.port()),
                "--mode", mode.wireName, "--send-bytes", Long.toString(sendBytes),
                "--reply-bytes", Long.toString(replyBytes), "--seed", Long.toString(seed),
                "--total-timeout", Long.toString(timeout.toSeconds())));
        if (socks5 != null) {
            command.addAll(List.of("--socks5", socks5.toString()));
            if (socks5Credentials != null) {
                command.addAll(List.of("--proxy-user", socks5Credentials.user(),
                        "--proxy-password", socks5Credentials.password()));
            }
        }
        Command.Result result = Command.run(netns.wrap(command), timeout.plusSeconds(30));
        Map<String, String> fields = new HashMap<>();
        result.stdout().lines().filter(line -> line.contains("=")).forEach(line -> {
            int eq = line.indexOf('=');
            fields.put(line.substring(0, eq), line.substring(eq + 1));
        });
        if (!fields.containsKey("ok")) {
            throw new IllegalStateException("byte-stream client printed no result\n" + result.describe());
        }
        return new Result(mode,
                Long.parseLong(fields.getOrDefault("sent_bytes", "-1")),
                Long.parseLong(fields.getOrDefault("received_bytes", "-1")),
                Long.parseLong(fields.getOrDefault("expected_received_bytes", "-1")),
                Long.parseLong(fields.getOrDefault("server_received_bytes", "-1")),
                Long.parseLong(fields.getOrDefault("elapsed_ms", "-1")),
                fields.getOrDefault("error", ""),
                "true".equals(fields.get("ok")) && result.succeeded(),
                result.stdout() + result.stderr());
    }
}
