package dev.chainsocks.service;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.chainsocks.chain.ChainHealth;
import dev.chainsocks.chain.ChainState;
import dev.chainsocks.redirect.Counters;
import dev.chainsocks.redirect.FailureReason;
import dev.chainsocks.redirect.ListenerStatus;
import dev.chainsocks.redirect.Redirector;
import dev.chainsocks.redirect.SessionInfo;
import dev.chainsocks.redirect.SessionState;
import dev.chainsocks.syntax.AddressSyntax;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The answer to {@code connections --json}: every live session with its byte counters, the service's totals and
 * each chain's health, in one document, so that {@code chainsocks top} can take one sample a second and compute
 * rates from successive samples. The service writes it and {@code top} reads it back with the same records.
 *
 * <p>The counters are read from the sessions' volatile fields on the control thread that answers; no event loop is
 * asked or waited for. The sessions, the totals and the chains are each read a moment apart, so a session that ends
 * while the report is built may be missing from the list while its bytes are not yet in the totals (or the other
 * way round) for that one sample.
 *
 * @param uptimeMillis how long the service has run
 * @param totals       counters since the service started
 * @param connections  live sessions, oldest first
 * @param chains       every listener's chains, in configuration order
 */
public record ConnectionsReport(long uptimeMillis, Totals totals, List<Connection> connections, List<Chain> chains) {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.WRITE_ENUMS_USING_TO_STRING)
            .enable(DeserializationFeature.READ_ENUMS_USING_TO_STRING)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();

    /** Checks that nothing is null and copies the lists. */
    public ConnectionsReport {
        Objects.requireNonNull(totals, "totals");
        connections = List.copyOf(connections);
        chains = List.copyOf(chains);
    }

    /**
     * Counters since the service started.
     *
     * @param accepted  connections accepted
     * @param active    sessions open now
     * @param dialed    connections that got a tunnel
     * @param failed    connections that got none, by reason; reasons that never happened are left out
     * @param bytesUp   bytes from clients to destinations, of finished sessions only
     * @param bytesDown bytes from destinations to clients, of finished sessions only
     */
    public record Totals(long accepted, long active, long dialed, Map<FailureReason, Long> failed, long bytesUp,
                         long bytesDown) {
        /** Copies the map. */
        public Totals {
            failed = failed.isEmpty() ? Map.of() : new EnumMap<>(failed);
        }

        /** All failed connections, whatever the reason. */
        public long failedCount() {
            return failed.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * One live session.
     *
     * @param id          the session id of its log lines
     * @param client      the client's address, e.g. {@code 198.18.1.2:40000}
     * @param destination where the client was going, e.g. {@code [fd00::7]:443}
     * @param chain       the chain it uses or dials now, e.g. {@code main[socks5://198.19.2.2:1080]}, or {@code -}
     * @param state       where it is in its life
     * @param bytesUp     bytes relayed from the client so far
     * @param bytesDown   bytes relayed to the client so far
     * @param ageMillis   time since it was accepted
     */
    public record Connection(long id, String client, String destination, String chain, SessionState state,
                             long bytesUp, long bytesDown, long ageMillis) {
        /** Checks that nothing is null. */
        public Connection {
            Objects.requireNonNull(client, "client");
            Objects.requireNonNull(destination, "destination");
            Objects.requireNonNull(chain, "chain");
            Objects.requireNonNull(state, "state");
        }

        public Duration age() {
            return Duration.ofMillis(ageMillis);
        }
    }

    /**
     * One chain of one listener.
     *
     * @param listener       the listener's bound address
     * @param name           the chain's name in the configuration
     * @param state          what the latest dial through it showed
     * @param stateAgeMillis time since the state last changed (while untried: since the listener started)
     * @param successes      successful dials since the listener started
     * @param failures       failed dials since the listener started
     * @param lastError      the reason given with the most recent failure, or null when it never failed
     */
    public record Chain(String listener, String name, ChainState state, long stateAgeMillis, long successes,
                        long failures, String lastError) {
        /** Checks that nothing but {@code lastError} is null. */
        public Chain {
            Objects.requireNonNull(listener, "listener");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(state, "state");
        }

        public Duration stateAge() {
            return Duration.ofMillis(stateAgeMillis);
        }
    }

    /** Reads the report off a running redirector, without waiting for any event loop. */
    static ConnectionsReport of(Redirector redirector) {
        List<Connection> connections = new ArrayList<>();
        for (SessionInfo session : redirector.sessions()) {
            connections.add(new Connection(session.id(), AddressSyntax.format(session.client()),
                    session.destination() == null ? "-" : AddressSyntax.format(session.destination()),
                    session.chain(), session.state(), session.bytesUp(), session.bytesDown(),
                    session.age().toMillis()));
        }
        Counters counters = redirector.counters();
        Totals totals = new Totals(counters.accepted(), redirector.activeSessions(), counters.dialedCount(),
                counters.failuresByReason(), counters.bytesUp(), counters.bytesDown());
        Instant now = Instant.now();
        List<Chain> chains = new ArrayList<>();
        for (ListenerStatus listener : redirector.listeners()) {
            String listen = AddressSyntax.format(listener.bound());
            for (ChainHealth health : listener.chains()) {
                chains.add(new Chain(listen, health.chain().name(), health.state(),
                        Math.max(0, Duration.between(health.since(), now).toMillis()), health.successes(),
                        health.failures(), health.lastError().orElse(null)));
            }
        }
        return new ConnectionsReport(redirector.uptime().toMillis(), totals, connections, chains);
    }

    /** The JSON text the control socket sends, ending with a line break. */
    public String toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the connections report: " + e.getMessage(), e);
        }
    }

    /**
     * Reads what {@link #toJson()} wrote.
     *
     * @throws IllegalArgumentException when the text is not such a report, naming what is wrong
     */
    public static ConnectionsReport parse(String json) {
        try {
            return JSON.readValue(json, ConnectionsReport.class);
        } catch (JsonProcessingException | NullPointerException e) {
            throw new IllegalArgumentException("not a connections report: " + e.getMessage(), e);
        }
    }
}
