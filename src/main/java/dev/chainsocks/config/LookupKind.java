package dev.chainsocks.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** How a listener finds where an accepted connection (or a received datagram) was going. */
public enum LookupKind {
    /** {@code getsockopt(SO_ORIGINAL_DST)}: the connection was redirected by iptables/nft REDIRECT or DNAT. */
    NETFILTER("netfilter"),
    /** {@code getsockname()}: the connection was diverted by TPROXY and the socket is IP_TRANSPARENT. */
    TPROXY("tproxy"),
    /**
     * No lookup: every datagram goes to the listener's configured {@code destination} (redsocks' redudp
     * {@code dest_ip}/{@code dest_port}). UDP listeners only.
     */
    FIXED("fixed");

    private final String configName;

    LookupKind(String configName) {
        this.configName = configName;
    }

    /** The name used in the configuration file. */
    public String configName() {
        return configName;
    }

    /** The kind for a configuration name, ignoring case; empty when unknown. */
    public static Optional<LookupKind> fromConfigName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(k -> k.configName.equals(lower)).findFirst();
    }

    @Override
    public String toString() {
        return configName;
    }
}
