package dev.chainsocks.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What a listener's client gets when no chain can open its destination. */
public enum OnProxyFail {
    /** The connection is reset (RST): the program sees a failure at once. */
    RESET("reset"),
    /**
     * A client whose destination port is 80 gets an HTTP {@code 502 Bad Gateway} page and a clean close; any other
     * port is reset.
     */
    HTTP_ERROR("http-error");

    /** The destination port that is answered in HTTP. */
    public static final int HTTP_PORT = 80;

    private final String configName;

    OnProxyFail(String configName) {
        this.configName = configName;
    }

    /** The name used in the configuration file. */
    public String configName() {
        return configName;
    }

    /** The value for a configuration name, ignoring case; empty when unknown. */
    public static Optional<OnProxyFail> fromConfigName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(v -> v.configName.equals(lower)).findFirst();
    }

    @Override
    public String toString() {
        return configName;
    }
}
