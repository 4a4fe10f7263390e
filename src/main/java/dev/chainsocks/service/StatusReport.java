package dev.chainsocks.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chainsocks.chain.ChainHealth;
import dev.chainsocks.chain.ChainState;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.dns.DnsServer;
import dev.chainsocks.dns.FakeIpMap;
import dev.chainsocks.redirect.Counters;
import dev.chainsocks.redirect.FailureReason;
import dev.chainsocks.redirect.ListenerStatus;
import dev.chainsocks.redirect.Redirector;
import dev.chainsocks.redirect.SessionInfo;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.udp.UdpListenerStatus;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** What {@code chainsocks status} and {@code chainsocks connections} print, as text for people or JSON. */
final class StatusReport {

    private static final ObjectMapper JSON = new ObjectMapper();

    private StatusReport() {
    }

    static String text(Redirector redirector) {
        return text(redirector, Optional.empty());
    }

    /** The status with the DNS server's counters when it runs. */
    static String text(Redirector redirector, Optional<DnsServer.Stats> dns) {
        Counters counters = redirector.counters();
        StringBuilder out = new StringBuilder();
        out.append("chainsocks up ").append(human(redirector.uptime())).append('\n');
        out.append("connections: ").append(counters.accepted()).append(" accepted, ")
                .append(redirector.activeSessions()).append(" active, ").append(counters.dialedCount())
                .append(" dialed\n");
        Map<FailureReason, Long> failures = counters.failuresByReason();
        out.append("failed: ");
        if (failures.isEmpty()) {
            out.append("none");
        } else {
            out.append(failures.entrySet().stream().map(failure -> failure.getKey() + "=" + failure.getValue())
                    .collect(Collectors.joining(" ")));
        }
        out.append('\n');
        out.append("bytes: up ").append(counters.bytesUp()).append(", down ").append(counters.bytesDown())
                .append(" (finished sessions)\n");
        if (redirector.config().dns().isPresent()) {
            FakeIpMap.Stats map = redirector.fakeIps().stats();
            dns.ifPresent(d -> out.append("dns: ").append(d.queries()).append(" queries, ").append(d.fakeAnswers())
                    .append(" fake, ").append(d.forwarded()).append(" forwarded, ").append(d.failed())
                    .append(" failed\n"));
            out.append("fake-IP map: ").append(map.size()).append('/').append(map.maxEntries()).append(" entries, ")
                    .append(map.hits()).append(" hits, ").append(map.misses()).append(" misses, ")
                    .append(map.evicted()).append(" evicted, ").append(map.exhausted()).append(" exhausted\n");
        }
        for (ListenerStatus listener : redirector.listeners()) {
            out.append("listener ").append(AddressSyntax.format(listener.bound())).append(' ')
                    .append(listener.config().lookup()).append(' ').append(listener.config().policy()).append('\n');
            for (ChainHealth health : listener.chains()) {
                out.append("  chain ").append(health.chain().name()).append(' ').append(health.state())
                        .append(" since ").append(health.since()).append(", ").append(health.successes())
                        .append(" ok, ").append(health.failures()).append(" failed");
                health.lastHandshakeLatency().ifPresent(d -> out.append(", last dial ").append(d.toMillis())
                        .append("ms"));
                out.append('\n');
                health.lastError().ifPresent(e -> out.append("    last error: ").append(e).append('\n'));
                health.backoffUntil().ifPresent(t -> out.append("    skipped until ").append(t).append('\n'));
                List<ProxyHop> hops = health.chain().hops();
                if (hops.isEmpty()) {
                    out.append("    direct\n");
                }
                for (int i = 0; i < hops.size(); i++) {
                    out.append("    hop ").append(i + 1).append(' ').append(hops.get(i)).append('\n');
                }
            }
        }
        return out.toString();
    }

    /** The UDP listeners' lines of {@code status}; empty when there are none. */
    static String udpText(List<UdpListenerStatus> udpListeners) {
        StringBuilder out = new StringBuilder();
        for (UdpListenerStatus udp : udpListeners) {
            out.append("udp listener ").append(AddressSyntax.format(udp.listen()))
                    .append(udp.destination().map(to -> " fixed to " + AddressSyntax.format(to)).orElse(" tproxy"))
                    .append('\n')
                    .append("  flows: ").append(udp.activeFlows()).append(" active of max ").append(udp.maxFlows())
                    .append(", ").append(udp.flowsStarted()).append(" started, ").append(udp.flowsFailed())
                    .append(" failed, ").append(udp.flowsEvicted()).append(" evicted\n")
                    .append("  datagrams: up ").append(udp.datagramsUp()).append(", down ").append(udp.datagramsDown())
                    .append(", dropped ").append(udp.dropped()).append('\n');
        }
        return out.toString();
    }

    static String json(Redirector redirector, List<UdpListenerStatus> udpListeners) {
        return json(redirector, udpListeners, Optional.empty());
    }

    static String json(Redirector redirector, Optional<DnsServer.Stats> dnsStats) {
        return json(redirector, List.of(), dnsStats);
    }

    /** {@link #json(Redirector)} with the UDP listeners under {@code udpListeners} and the DNS server's counters. */
    static String json(Redirector redirector, List<UdpListenerStatus> udpListeners,
            Optional<DnsServer.Stats> dnsStats) {
        ObjectNode root = tree(redirector, dnsStats);
        ArrayNode udp = root.putArray("udpListeners");
        for (UdpListenerStatus status : udpListeners) {
            ObjectNode node = udp.addObject();
            node.put("listen", AddressSyntax.format(status.listen()));
            status.destination().ifPresent(to -> node.put("destination", AddressSyntax.format(to)));
            node.put("activeFlows", status.activeFlows());
            node.put("maxFlows", status.maxFlows());
            node.put("flowsStarted", status.flowsStarted());
            node.put("flowsFailed", status.flowsFailed());
            node.put("flowsEvicted", status.flowsEvicted());
            node.put("datagramsUp", status.datagramsUp());
            node.put("datagramsDown", status.datagramsDown());
            node.put("dropped", status.dropped());
        }
        return root.toPrettyString() + "\n";
    }

    static String json(Redirector redirector) {
        return json(redirector, List.of(), Optional.empty());
    }

    private static ObjectNode tree(Redirector redirector, Optional<DnsServer.Stats> dnsStats) {
        Counters counters = redirector.counters();
        ObjectNode root = JSON.createObjectNode();
        root.put("uptimeSeconds", redirector.uptime().toSeconds());
        ObjectNode totals = root.putObject("connections");
        totals.put("accepted", counters.accepted());
        totals.put("active", redirector.activeSessions());
        totals.put("dialed", counters.dialedCount());
        ObjectNode failed = totals.putObject("failed");
        counters.failuresByReason().forEach((reason, count) -> failed.put(reason.label(), count));
        ObjectNode bytes = root.putObject("bytes");
        bytes.put("up", counters.bytesUp());
        bytes.put("down", counters.bytesDown());
        if (redirector.config().dns().isPresent()) {
            ObjectNode dns = root.putObject("dns");
            dnsStats.ifPresent(d -> {
                dns.put("queries", d.queries());
                dns.put("fakeAnswers", d.fakeAnswers());
                dns.put("forwarded", d.forwarded());
                dns.put("failed", d.failed());
            });
            FakeIpMap.Stats map = redirector.fakeIps().stats();
            ObjectNode fake = dns.putObject("fakeIpMap");
            fake.put("size", map.size());
            fake.put("maxEntries", map.maxEntries());
            fake.put("hits", map.hits());
            fake.put("misses", map.misses());
            fake.put("assigned", map.assigned());
            fake.put("evicted", map.evicted());
            fake.put("exhausted", map.exhausted());
        }
        ArrayNode listeners = root.putArray("listeners");
        for (ListenerStatus listener : redirector.listeners()) {
            ObjectNode node = listeners.addObject();
            node.put("listen", AddressSyntax.format(listener.bound()));
            node.put("lookup", listener.config().lookup().toString());
            node.put("policy", listener.config().policy().toString());
            ArrayNode chains = node.putArray("chains");
            for (ChainHealth health : listener.chains()) {
                ObjectNode chain = chains.addObject();
                chain.put("name", health.chain().name());
                chain.put("state", health.state().toString());
                if (health.state() != ChainState.UNTRIED) {
                    chain.put("up", health.up());
                }
                chain.put("since", health.since().toString());
                chain.put("successes", health.successes());
                chain.put("failures", health.failures());
                health.lastError().ifPresent(e -> chain.put("lastError", e));
                health.lastHandshakeLatency().ifPresent(d -> chain.put("lastDialMillis", d.toMillis()));
                health.backoffUntil().ifPresent(t -> chain.put("skippedUntil", t.toString()));
                ArrayNode hops = chain.putArray("hops");
                health.chain().hops().forEach(hop -> hops.add(hop.toString()));
            }
        }
        return root;
    }

    static String connections(Redirector redirector) {
        List<SessionInfo> sessions = redirector.sessions();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-8s %-28s %-28s %-8s %12s %12s %9s  %s%n", "SESSION", "CLIENT",
                "DESTINATION", "STATE", "UP", "DOWN", "AGE", "CHAIN"));
        for (SessionInfo session : sessions) {
            out.append(String.format(Locale.ROOT, "%-8d %-28s %-28s %-8s %12d %12d %9s  %s%n", session.id(),
                    AddressSyntax.format(session.client()), AddressSyntax.format(session.destination()), session.state(),
                    session.bytesUp(), session.bytesDown(), human(session.age()), session.chain()));
        }
        out.append(sessions.size()).append(" session(s)\n");
        return out.toString();
    }

    static String human(Duration duration) {
        long seconds = duration.toSeconds();
        if (seconds < 60) {
            return String.format(Locale.ROOT, "%.1fs", duration.toMillis() / 1000.0);
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + seconds % 60 + "s";
        }
        return seconds / 3600 + "h" + seconds % 3600 / 60 + "m";
    }
}
