package dev.chainsocks.chain;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the {@link ChainSelector} knows about one chain, for {@code chainsocks status}.
 *
 * @param chain                the chain
 * @param state                untried until the first dial, then up or down after each dial
 * @param since                when the state last changed (while untried: when the selector started)
 * @param lastError            the reason given with the most recent failure, if any
 * @param lastHandshakeLatency how long the most recent successful dial took, all hops included
 * @param successes            successful dials since the selector started
 * @param failures             failed dials since the selector started
 * @param backoffUntil         while down: when the chain stops being skipped by failover and is retried
 */
public record ChainHealth(ProxyChain chain, ChainState state, Instant since, Optional<String> lastError,
                          Optional<Duration> lastHandshakeLatency, long successes, long failures,
                          Optional<Instant> backoffUntil) {

    /** Checks that nothing is null. */
    public ChainHealth {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(lastError, "lastError");
        Objects.requireNonNull(lastHandshakeLatency, "lastHandshakeLatency");
        Objects.requireNonNull(backoffUntil, "backoffUntil");
    }

    /** Whether the latest dial through the chain succeeded; false while it is untried. */
    public boolean up() {
        return state == ChainState.UP;
    }

    /** One status line: {@code main[socks5://a:1080] up since 2025-01-01T10:00:00Z, 12 ok, 1 failed, last dial 35ms}. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder().append(chain).append(' ').append(state).append(" since ")
                .append(since).append(", ").append(successes).append(" ok, ").append(failures).append(" failed");
        lastHandshakeLatency.ifPresent(d -> out.append(", last dial ").append(d.toMillis()).append("ms"));
        if (state == ChainState.DOWN) {
            lastError.ifPresent(e -> out.append(", last error: ").append(e));
            backoffUntil.ifPresent(t -> out.append(", skipped until ").append(t));
        }
        return out.toString();
    }
}
