package dev.chainsocks.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What a {@code [[listener]]} receives: redirected TCP connections, or TPROXY'd UDP datagrams. */
public enum ListenerProtocol {
    TCP("tcp"),
    UDP("udp");

    private final String configName;

    ListenerProtocol(String configName) {
        this.configName = configName;
    }

    /** The name used in the configuration file. */
    public String configName() {
        return configName;
    }

    /** The protocol for a configuration name, ignoring case; empty when unknown. */
    public static Optional<ListenerProtocol> fromConfigName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(p -> p.configName.equals(lower)).findFirst();
    }

    @Override
    public String toString() {
        return configName;
    }
}
