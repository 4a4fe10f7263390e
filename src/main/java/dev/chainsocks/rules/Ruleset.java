package dev.chainsocks.rules;

import java.util.List;
import java.util.Objects;

/**
 * Generated firewall rules: what to run to start redirecting and what to run to stop.
 *
 * @param backend  the tool both texts are for
 * @param mode     whose connections are redirected
 * @param up       a POSIX shell script: iptables commands, or for {@link FirewallBackend#NFT} one that feeds a
 *                 ruleset to {@code nft -f -}; idempotent: applying it again replaces the rules, never adds a copy.
 *                 It also removes the other backend's chainsocks rules, so switching backends leaves one set
 * @param down     removes everything {@code up} of either backend added (and nothing else), whatever the mode or
 *                 configuration it was generated with; harmless when nothing is there
 * @param warnings things the rules cannot do, one sentence each, also written as comments into {@code up}
 */
public record Ruleset(FirewallBackend backend, RedirectMode mode, String up, String down, List<String> warnings) {

    /** Copies the warnings. */
    public Ruleset {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(up, "up");
        Objects.requireNonNull(down, "down");
        warnings = List.copyOf(warnings);
    }

    @Override
    public String toString() {
        return "ruleset " + backend.name().toLowerCase(java.util.Locale.ROOT) + " "
                + mode.name().toLowerCase(java.util.Locale.ROOT)
                + (warnings.isEmpty() ? "" : " with " + warnings.size() + " warning(s)");
    }
}
