package dev.chainsocks.e2e.redirect;

import dev.chainsocks.e2e.ChainsocksProcess;
import dev.chainsocks.e2e.Endpoint;
import dev.chainsocks.e2e.Netns;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A hop of the chains under test: the bundled {@code chainsocks socks-server} in {@code wan}, listening on one IPv4
 * and (optionally) one IPv6 endpoint. It counts its connections through its access log: one
 * {@code session N start client=... dst=... via=socks5 CONNECT} line per request it accepted, so a test can assert
 * that the hop was really used and what it was asked for.
 */
final class BundledHop implements AutoCloseable {

    static final Duration LOG_WAIT = Duration.ofSeconds(10);

    private final String name;
    private final ChainsocksProcess process;
    private final Endpoint v4;
    private final Endpoint v6;

    private BundledHop(String name, ChainsocksProcess process, Endpoint v4, Endpoint v6) {
        this.name = name;
        this.process = process;
        this.v4 = v4;
        this.v6 = v6;
    }

    /**
     * Starts {@code socks-server} listening on {@code v4} and, if not null, {@code v6}, with {@code options} such as
     * {@code --allow-from CIDR} or {@code --user N:P}. Does not wait: call {@link #awaitListening()} once all hops
     * are starting, so their JVMs start in parallel.
     */
    static BundledHop start(Netns netns, String name, Endpoint v4, Endpoint v6, String... options) {
        List<String> args = new ArrayList<>(List.of("socks-server", "--listen", v4.toString()));
        if (v6 != null) {
            args.addAll(List.of("--listen", v6.toString()));
        }
        args.addAll(List.of(options));
        return new BundledHop(name, ChainsocksProcess.start(netns, name, args.toArray(String[]::new)), v4, v6);
    }

    BundledHop awaitListening() {
        process.waitForPort(v4);
        if (v6 != null) {
            process.waitForPort(v6);
        }
        return this;
    }

    String name() {
        return name;
    }

    Endpoint v4() {
        return v4;
    }

    Endpoint v6() {
        return v6;
    }

    /** {@code scheme://[userinfo@]host:port} for this hop's IPv4 endpoint. */
    String uri(String scheme, String userInfo) {
        return scheme + "://" + (userInfo == null ? "" : userInfo + "@") + v4;
    }

    String uri(String scheme) {
        return uri(scheme, null);
    }

    /** {@code scheme://[fd00:2::2]:port}. */
    String uriV6(String scheme) {
        return scheme + "://" + v6;
    }

    /** The access-log start lines so far: one per request the hop accepted. */
    List<String> sessionStarts() {
        return AccessLogLines.starts(process.logLines()).stream().map(AccessLogLines::normalized).toList();
    }

    int sessionCount() {
        return sessionStarts().size();
    }

    /** Waits for {@code count} start lines after the first {@code before}, and returns just those new ones. */
    List<String> awaitNewSessions(int before, int count) {
        List<String> all = process.awaitLogLines(AccessLogLines::isStart, before + count, LOG_WAIT);
        return all.subList(before, all.size()).stream().map(AccessLogLines::normalized).toList();
    }

    /** Waits for exactly one new session since {@code before} and returns its start line. */
    String awaitOneNewSession(int before) {
        List<String> added = awaitNewSessions(before, 1);
        if (added.size() != 1) {
            throw new AssertionError(name + " counted " + added.size() + " new sessions, expected 1: " + added);
        }
        return added.get(0);
    }

    ChainsocksProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop();
    }

    @Override
    public String toString() {
        return name + " " + v4 + (v6 == null ? "" : " " + v6);
    }
}
