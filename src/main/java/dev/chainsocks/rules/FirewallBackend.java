package dev.chainsocks.rules;

/** Which firewall tool the generated rules are written for. */
public enum FirewallBackend {
    /** A shell script of {@code iptables} and {@code ip6tables} commands (legacy or nft-based iptables alike). */
    IPTABLES,
    /** A ruleset for {@code nft -f -}, in tables {@code ip chainsocks} and {@code ip6 chainsocks}. */
    NFT
}
