package dev.chainsocks.rules;

/** Which transport protocol a listener receives, and so which packets its rules divert to it. */
public enum Transport {
    /** TCP connections: REDIRECT (netfilter lookup) or TPROXY. */
    TCP("tcp"),
    /** UDP datagrams: TPROXY only. */
    UDP("udp");

    private final String ruleName;

    Transport(String ruleName) {
        this.ruleName = ruleName;
    }

    /** The protocol as iptables ({@code -p tcp}) and nft ({@code meta l4proto tcp}) name it. */
    public String ruleName() {
        return ruleName;
    }

    @Override
    public String toString() {
        return name();
    }
}
