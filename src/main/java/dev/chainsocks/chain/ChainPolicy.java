package dev.chainsocks.chain;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** How a listener with several chains picks the chain for each new connection; see {@link ChainSelector}. */
public enum ChainPolicy {
    /** Exactly one chain; a connection that cannot be dialled through it fails. */
    STRICT("strict"),
    /** Chains in configuration order; a chain that failed is tried last for a backoff period. */
    FAILOVER("failover"),
    /** Each connection starts at the next chain in turn; the others are fallbacks. */
    ROUND_ROBIN("round-robin"),
    /** Each connection starts at a random chain; the others are fallbacks. */
    RANDOM("random");

    private final String configName;

    ChainPolicy(String configName) {
        this.configName = configName;
    }

    /** The name used in the configuration file: {@code round-robin}. */
    public String configName() {
        return configName;
    }

    /** The policy for a configuration name, ignoring case; empty when unknown. */
    public static Optional<ChainPolicy> fromConfigName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(p -> p.configName.equals(lower)).findFirst();
    }

    /** "strict, failover, round-robin or random", for error messages. */
    public static String validNames() {
        String all = Arrays.stream(values()).map(ChainPolicy::configName).collect(Collectors.joining(", "));
        int last = all.lastIndexOf(", ");
        return all.substring(0, last) + " or " + all.substring(last + 2);
    }

    @Override
    public String toString() {
        return configName;
    }
}
