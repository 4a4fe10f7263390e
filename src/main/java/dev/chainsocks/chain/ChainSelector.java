package dev.chainsocks.chain;

import dev.chainsocks.syntax.DurationSyntax;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.tinylog.Logger;

/**
 * Picks the chains to try for each new connection of one listener, according to its {@link ChainPolicy}, and
 * remembers which chains failed recently.
 *
 * <p>{@link #candidates()} returns every chain, best first; the dialer tries them in order until one works and
 * reports each outcome with {@link #reportSuccess} or {@link #reportFailure}. A chain that failed is down: it moves
 * behind the healthy chains, but is never left out, so when every chain failed once they are all still tried, in
 * order. A down chain with proxies is not retried with a user's connection: once its backoff has passed, the
 * owner takes it from {@link #takeDueProbes()}, checks it with a connection of its own, and reports with
 * {@link #reportProbe}; only a probe that reached the proxy (or a user's dial that worked anyway) brings it back
 * to its place. A direct chain (no proxies) has nothing to probe: after its backoff the next connection retries it.
 * <ul>
 *   <li>{@link ChainPolicy#STRICT}: the one chain.
 *   <li>{@link ChainPolicy#FAILOVER}: healthy chains in configuration order, then those in backoff.
 *   <li>{@link ChainPolicy#ROUND_ROBIN}: the order rotated by one chain per connection, healthy chains first.
 *   <li>{@link ChainPolicy#RANDOM}: the order rotated to a random start, healthy chains first.
 * </ul>
 *
 * <p>Thread-safe and lock-free: per-chain state is an immutable value swapped atomically, and a call to
 * {@code candidates()} reads the clock once and allocates one small list, so it is cheap enough for the event
 * loop.
 */
public final class ChainSelector {

    private final ChainPolicy policy;
    private final List<ProxyChain> chains;
    private final long backoffNanos;
    private final LongSupplier nanoTime;
    private final Clock clock;
    private final RandomGenerator random;
    private final Map<String, Integer> indexByName = new HashMap<>();
    private final AtomicReferenceArray<State> states;
    private final LongAdder[] successes;
    private final LongAdder[] failures;
    private final AtomicInteger turn = new AtomicInteger();

    /** One chain's health; replaced as a whole, never modified. */
    private record State(ChainState state, Instant since, String lastError, Duration lastLatency,
                         long retryAtNanos, boolean probing, int failedProbes) {
    }

    /** What a probe of a down chain found. */
    public enum ProbeOutcome {
        /** The first proxy accepted a connection: the chain is up again. */
        REACHED,
        /** The first proxy could not be reached: still down, probed again after the backoff. */
        FAILED,
        /** This host could not make the probe (no socket): nothing learned, probed again after the backoff. */
        INCONCLUSIVE
    }

    /**
     * A selector with explicit time and randomness sources, for tests.
     *
     * @param policy   how to order the chains
     * @param chains   the listener's chains in configuration order, names unique; exactly one for STRICT
     * @param backoff  how long a failed chain is tried after the healthy ones; zero disables the backoff
     * @param nanoTime a monotonic clock in nanoseconds, such as {@code System::nanoTime}
     * @param clock    wall clock for the times shown in {@link ChainHealth}
     * @param random   where RANDOM picks its first chain; called from any thread
     */
    public ChainSelector(ChainPolicy policy, List<ProxyChain> chains, Duration backoff, LongSupplier nanoTime,
                         Clock clock, RandomGenerator random) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.chains = List.copyOf(chains);
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
        if (this.chains.isEmpty()) {
            throw new IllegalArgumentException("a chain selector needs at least one chain");
        }
        if (policy == ChainPolicy.STRICT && this.chains.size() > 1) {
            throw new IllegalArgumentException("policy strict takes exactly one chain, got " + this.chains);
        }
        if (backoff.isNegative()) {
            throw new IllegalArgumentException("backoff must not be negative: " + backoff);
        }
        this.backoffNanos = backoff.toNanos();
        for (int i = 0; i < this.chains.size(); i++) {
            if (indexByName.put(this.chains.get(i).name(), i) != null) {
                throw new IllegalArgumentException("chain listed twice: " + this.chains.get(i).name());
            }
        }
        Instant now = clock.instant();
        this.states = new AtomicReferenceArray<>(this.chains.size());
        this.successes = new LongAdder[this.chains.size()];
        this.failures = new LongAdder[this.chains.size()];
        for (int i = 0; i < this.chains.size(); i++) {
            states.set(i, new State(ChainState.UNTRIED, now, null, null, 0, false, 0));
            successes[i] = new LongAdder();
            failures[i] = new LongAdder();
        }
    }

    /** A selector on the system clocks, with a thread-local random generator for RANDOM. */
    public static ChainSelector create(ChainPolicy policy, List<ProxyChain> chains, Duration backoff) {
        RandomGenerator threadLocal = () -> ThreadLocalRandom.current().nextLong();
        return new ChainSelector(policy, chains, backoff, System::nanoTime, Clock.systemUTC(), threadLocal);
    }

    /** The policy this selector applies. */
    public ChainPolicy policy() {
        return policy;
    }

    /** The chains in configuration order. */
    public List<ProxyChain> chains() {
        return chains;
    }

    /** The chains to try for one new connection, in order; never empty, always every chain once. */
    public List<ProxyChain> candidates() {
        int n = chains.size();
        if (n == 1) {
            return chains;
        }
        int start = switch (policy) {
            case STRICT, FAILOVER -> 0;
            case ROUND_ROBIN -> Math.floorMod(turn.getAndIncrement(), n);
            case RANDOM -> random.nextInt(n);
        };
        long now = nanoTime.getAsLong();
        ProxyChain[] ordered = new ProxyChain[n];
        int front = 0;
        int back = n;
        for (int k = 0; k < n; k++) {
            int i = (start + k) % n;
            if (behind(i, now)) {
                ordered[--back] = chains.get(i);
            } else {
                ordered[front++] = chains.get(i);
            }
        }
        for (int lo = back, hi = n - 1; lo < hi; lo++, hi--) {
            ProxyChain swap = ordered[lo];
            ordered[lo] = ordered[hi];
            ordered[hi] = swap;
        }
        return Arrays.asList(ordered);
    }

    /**
     * Records that dialling through a chain failed; the chain goes down and into backoff.
     *
     * @param reason what failed, shown by {@code chainsocks status}: "hop 2 http://b:3128: 407 Proxy Authentication
     *               Required"
     */
    public void reportFailure(ProxyChain chain, String reason) {
        int i = indexOf(chain);
        long now = nanoTime.getAsLong();
        Instant wall = clock.instant();
        State before = states.getAndUpdate(i, s -> new State(ChainState.DOWN,
                s.state() == ChainState.DOWN ? s.since() : wall, reason, s.lastLatency(), now + backoffNanos,
                s.probing(), s.state() == ChainState.DOWN ? s.failedProbes() : 0));
        failures[i].increment();
        if (before.state() != ChainState.DOWN) {
            Logger.warn("chain {} is down: {}; tried after the others{}", chain, reason, chain.isDirect()
                    ? " for " + DurationSyntax.format(Duration.ofNanos(backoffNanos))
                    : " until a probe reaches it, first in " + DurationSyntax.format(Duration.ofNanos(backoffNanos)));
        }
    }

    /** Records a successful dial through a chain; the chain is up again and leaves backoff. */
    public void reportSuccess(ProxyChain chain, Duration handshakeLatency) {
        Objects.requireNonNull(handshakeLatency, "handshakeLatency");
        int i = indexOf(chain);
        Instant wall = clock.instant();
        State before = states.getAndUpdate(i, s -> new State(ChainState.UP,
                s.state() == ChainState.UP ? s.since() : wall, s.lastError(), handshakeLatency, 0, s.probing(), 0));
        successes[i].increment();
        if (before.state() == ChainState.DOWN) {
            Logger.info("chain {} is up again", chain);
        }
    }

    /**
     * Records that a dial through a chain reached its last hop, which refused the destination (connection refused,
     * unreachable): the chain itself works, so it is up, but no dial succeeded and none failed by its fault.
     */
    public void reportWorking(ProxyChain chain) {
        int i = indexOf(chain);
        Instant wall = clock.instant();
        State before = states.getAndUpdate(i, s -> s.state() == ChainState.UP ? s
                : new State(ChainState.UP, wall, s.lastError(), s.lastLatency(), 0, s.probing(), 0));
        if (before.state() == ChainState.DOWN) {
            Logger.info("chain {} is up again: its last hop answered", chain);
        }
    }

    /**
     * The down chains with proxies whose backoff has passed and that no probe is checking yet; each returned chain
     * is marked as being probed, and the caller must {@link #reportProbe} it.
     */
    public List<ProxyChain> takeDueProbes() {
        long now = nanoTime.getAsLong();
        List<ProxyChain> due = new ArrayList<>(0);
        for (int i = 0; i < chains.size(); i++) {
            if (chains.get(i).isDirect()) {
                continue;
            }
            State s = states.get(i);
            if (s.state() == ChainState.DOWN && !s.probing() && now - s.retryAtNanos() >= 0
                    && states.compareAndSet(i, s, new State(s.state(), s.since(), s.lastError(), s.lastLatency(),
                            s.retryAtNanos(), true, s.failedProbes()))) {
                due.add(chains.get(i));
            }
        }
        return due;
    }

    /**
     * Records what a probe taken from {@link #takeDueProbes()} found.
     *
     * @param detail what the probe did or why it failed, shown as the last error while the chain stays down
     */
    public void reportProbe(ProxyChain chain, ProbeOutcome outcome, String detail) {
        int i = indexOf(chain);
        long now = nanoTime.getAsLong();
        Instant wall = clock.instant();
        State before = states.getAndUpdate(i, s -> {
            if (s.state() != ChainState.DOWN) {
                // a user's dial brought it up meanwhile: that is the better evidence
                return new State(s.state(), s.since(), s.lastError(), s.lastLatency(), s.retryAtNanos(), false,
                        s.failedProbes());
            }
            return switch (outcome) {
                case REACHED -> new State(ChainState.UP, wall, s.lastError(), s.lastLatency(), 0, false, 0);
                case FAILED -> new State(ChainState.DOWN, s.since(), detail, s.lastLatency(), now + backoffNanos,
                        false, s.failedProbes() + 1);
                case INCONCLUSIVE -> new State(ChainState.DOWN, s.since(), s.lastError(), s.lastLatency(),
                        now + backoffNanos, false, s.failedProbes());
            };
        });
        if (before.state() == ChainState.DOWN && outcome == ProbeOutcome.REACHED) {
            Logger.info("chain {} is up again: {}", chain, detail);
        } else if (before.state() == ChainState.DOWN && outcome == ProbeOutcome.FAILED && before.failedProbes() == 0) {
            // Once per outage; status shows the latest probe's error.
            Logger.info("chain {} is still down: {}; probed again every {} until it answers", chain, detail,
                    DurationSyntax.format(Duration.ofNanos(backoffNanos)));
        }
    }

    /** A snapshot of every chain's health, in configuration order. */
    public List<ChainHealth> health() {
        long now = nanoTime.getAsLong();
        Instant wall = clock.instant();
        List<ChainHealth> out = new ArrayList<>(chains.size());
        for (int i = 0; i < chains.size(); i++) {
            State s = states.get(i);
            Optional<Instant> until = inBackoff(s, now)
                    ? Optional.of(wall.plusNanos(s.retryAtNanos() - now)) : Optional.empty();
            out.add(new ChainHealth(chains.get(i), s.state(), s.since(), Optional.ofNullable(s.lastError()),
                    Optional.ofNullable(s.lastLatency()), successes[i].sum(), failures[i].sum(), until));
        }
        return out;
    }

    private static boolean inBackoff(State state, long now) {
        return state.state() == ChainState.DOWN && now - state.retryAtNanos() < 0;
    }

    /** Whether a chain goes behind the healthy ones: down and in backoff, or down and waiting for its probe. */
    private boolean behind(int i, long now) {
        State state = states.get(i);
        return inBackoff(state, now) || (state.state() == ChainState.DOWN && !chains.get(i).isDirect());
    }

    private int indexOf(ProxyChain chain) {
        Integer i = indexByName.get(chain.name());
        if (i == null || (chains.get(i) != chain && !chains.get(i).equals(chain))) {
            throw new IllegalArgumentException("chain " + chain + " is not one of " + chains);
        }
        return i;
    }

    @Override
    public String toString() {
        return policy + " " + chains;
    }
}
