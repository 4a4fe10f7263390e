package dev.chainsocks.service;

import com.sun.net.httpserver.HttpServer;
import dev.chainsocks.chain.ChainHealth;
import dev.chainsocks.chain.ChainState;
import dev.chainsocks.dns.DnsServer;
import dev.chainsocks.dns.FakeIpMap;
import dev.chainsocks.redirect.Counters;
import dev.chainsocks.redirect.FailureReason;
import dev.chainsocks.redirect.ListenerStatus;
import dev.chainsocks.redirect.Redirector;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.udp.UdpListenerStatus;
import dev.chainsocks.udp.UdpRedirector;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Prometheus text exposition (format 0.0.4) of the same counters {@code chainsocks status} shows, on
 * {@code GET /metrics}; {@code HEAD} gets the same headers without the body, other methods 405. One daemon
 * thread; meant for a loopback address.
 */
final class MetricsEndpoint implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsEndpoint(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static MetricsEndpoint start(InetSocketAddress address, Redirector redirector) throws IOException {
        return start(address, redirector, null, Optional::empty);
    }

    /**
     * With the UDP listeners' series when {@code udp} is not null, and the DNS server's counters when {@code dns}
     * gives them.
     */
    static MetricsEndpoint start(InetSocketAddress address, Redirector redirector, UdpRedirector udp,
            Supplier<Optional<DnsServer.Stats>> dns) throws IOException {
        HttpServer server = HttpServer.create(address, 16);
        server.createContext("/metrics", exchange -> {
            try {
                String method = exchange.getRequestMethod();
                boolean head = method.equals("HEAD");
                if (!head && !method.equals("GET")) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    exchange.sendResponseHeaders(405, -1);
                    return;
                }
                String text = render(redirector, dns.get()) + (udp == null ? "" : renderUdp(udp.listeners()));
                byte[] body = text.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                if (head) {
                    // The headers GET would send, no body. The JDK server logs a warning when a length is passed
                    // for HEAD, so -1 ("no body") goes to it and the length goes in the header.
                    exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
                    exchange.sendResponseHeaders(200, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            } finally {
                exchange.close();
            }
        });
        ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "metrics-http");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.start();
        return new MetricsEndpoint(server, executor);
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    static String render(Redirector redirector) {
        return render(redirector, Optional.empty());
    }

    static String render(Redirector redirector, Optional<DnsServer.Stats> dns) {
        Counters counters = redirector.counters();
        StringBuilder out = new StringBuilder();
        metric(out, "chainsocks_uptime_seconds", "gauge", "Seconds since the service started.",
                redirector.uptime().toSeconds());
        metric(out, "chainsocks_connections_accepted_total", "counter", "Connections accepted.", counters.accepted());
        metric(out, "chainsocks_connections_active", "gauge", "Connections open now.", redirector.activeSessions());
        metric(out, "chainsocks_connections_dialed_total", "counter", "Connections whose chain was dialed.",
                counters.dialedCount());
        out.append("# HELP chainsocks_connections_failed_total Connections that ended before a relay, by reason.\n");
        out.append("# TYPE chainsocks_connections_failed_total counter\n");
        Map<FailureReason, Long> failures = counters.failuresByReason();
        for (FailureReason reason : FailureReason.values()) {
            // every reason, zeros included, so that rate() and increase() see a series from the start
            out.append("chainsocks_connections_failed_total{reason=\"").append(reason.label()).append("\"} ")
                    .append(failures.getOrDefault(reason, 0L)).append('\n');
        }
        out.append("# HELP chainsocks_bytes_total Bytes relayed by finished sessions, by direction.\n");
        out.append("# TYPE chainsocks_bytes_total counter\n");
        out.append("chainsocks_bytes_total{direction=\"up\"} ").append(counters.bytesUp()).append('\n');
        out.append("chainsocks_bytes_total{direction=\"down\"} ").append(counters.bytesDown()).append('\n');
        // chain_up only for what a dial showed: a chain no connection has used yet has no sample, so neither an
        // alert on == 0 nor a dashboard of up chains reads a health nobody observed. chain_state says why.
        out.append("# HELP chainsocks_chain_up Whether a chain's last dial succeeded (1) or failed (0);"
                + " no sample until the chain is first dialed.\n");
        out.append("# TYPE chainsocks_chain_up gauge\n");
        for (ListenerStatus listener : redirector.listeners()) {
            for (ChainHealth health : listener.chains()) {
                if (health.state() != ChainState.UNTRIED) {
                    out.append("chainsocks_chain_up").append(chainLabels(listener, health)).append("} ")
                            .append(health.up() ? 1 : 0).append('\n');
                }
            }
        }
        out.append("# HELP chainsocks_chain_state A chain's state: 1 for the one it is in (untried until it is"
                + " first dialed, then up or down), 0 for the others.\n");
        out.append("# TYPE chainsocks_chain_state gauge\n");
        for (ListenerStatus listener : redirector.listeners()) {
            for (ChainHealth health : listener.chains()) {
                for (ChainState state : ChainState.values()) {
                    out.append("chainsocks_chain_state").append(chainLabels(listener, health)).append(",state=\"")
                            .append(state).append("\"} ").append(health.state() == state ? 1 : 0).append('\n');
                }
            }
        }
        if (redirector.config().dns().isPresent()) {
            dns.ifPresent(d -> {
                metric(out, "chainsocks_dns_queries_total", "counter", "DNS queries received.", d.queries());
                metric(out, "chainsocks_dns_fake_answers_total", "counter",
                        "DNS queries answered from the fake-IP pools.", d.fakeAnswers());
                metric(out, "chainsocks_dns_forwarded_total", "counter", "DNS queries forwarded upstream.",
                        d.forwarded());
                metric(out, "chainsocks_dns_failed_total", "counter",
                        "DNS queries answered with an error (FORMERR, SERVFAIL, REFUSED).", d.failed());
            });
            FakeIpMap.Stats map = redirector.fakeIps().stats();
            metric(out, "chainsocks_fakeip_entries", "gauge", "Name-address mappings held.", map.size());
            out.append("# HELP chainsocks_fakeip_lookups_total Connections to a fake-IP pool address: hit when it"
                    + " stood for a name, miss when not.\n");
            out.append("# TYPE chainsocks_fakeip_lookups_total counter\n");
            out.append("chainsocks_fakeip_lookups_total{result=\"hit\"} ").append(map.hits()).append('\n');
            out.append("chainsocks_fakeip_lookups_total{result=\"miss\"} ").append(map.misses()).append('\n');
            metric(out, "chainsocks_fakeip_evicted_total", "counter",
                    "Mappings dropped to make room for new names.", map.evicted());
            metric(out, "chainsocks_fakeip_exhausted_total", "counter",
                    "Names that got no address: every pool address was used within the TTL.", map.exhausted());
        }
        return out.toString();
    }

    /** The UDP listeners' series; nothing when there are none. */
    static String renderUdp(List<UdpListenerStatus> listeners) {
        if (listeners.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        udpSeries(out, listeners, "chainsocks_udp_flows_active", "gauge", "UDP flows open now.",
                UdpListenerStatus::activeFlows);
        udpSeries(out, listeners, "chainsocks_udp_flows_started_total", "counter",
                "UDP flows whose association opened.", UdpListenerStatus::flowsStarted);
        udpSeries(out, listeners, "chainsocks_udp_flows_failed_total", "counter",
                "UDP flows that got no association.", UdpListenerStatus::flowsFailed);
        udpSeries(out, listeners, "chainsocks_udp_flows_evicted_total", "counter",
                "UDP flows closed to make room in a full flow table.", UdpListenerStatus::flowsEvicted);
        udpSeries(out, listeners, "chainsocks_udp_datagrams_up_total", "counter",
                "Datagrams sent on to a SOCKS5 UDP relay.", UdpListenerStatus::datagramsUp);
        udpSeries(out, listeners, "chainsocks_udp_datagrams_down_total", "counter",
                "Datagrams sent back to clients.", UdpListenerStatus::datagramsDown);
        udpSeries(out, listeners, "chainsocks_udp_datagrams_dropped_total", "counter",
                "Datagrams dropped (cut short, queue full, or not from the flow's destination).",
                UdpListenerStatus::dropped);
        return out.toString();
    }

    private static void udpSeries(StringBuilder out, List<UdpListenerStatus> listeners, String name, String type,
                                  String help, ToLongFunction<UdpListenerStatus> value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        for (UdpListenerStatus listener : listeners) {
            out.append(name).append("{listener=\"").append(AddressSyntax.format(listener.listen())).append("\"} ")
                    .append(value.applyAsLong(listener)).append('\n');
        }
    }

    /** An opening brace and the chain's labels, {@code listener="127.0.0.1:12345",chain="main"}: more may follow. */
    private static String chainLabels(ListenerStatus listener, ChainHealth health) {
        return "{listener=\"" + AddressSyntax.format(listener.bound()) + "\",chain=\"" + health.chain().name() + "\"";
    }

    private static void metric(StringBuilder out, String name, String type, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        out.append(name).append(' ').append(value).append('\n');
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
