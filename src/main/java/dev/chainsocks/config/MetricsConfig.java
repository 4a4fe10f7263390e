package dev.chainsocks.config;

import dev.chainsocks.syntax.AddressSyntax;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The optional {@code [metrics]} table: a Prometheus text endpoint.
 *
 * @param listen      where the endpoint listens
 * @param allowRemote must be true for a non-loopback {@code listen}: metrics name destinations and proxies
 */
public record MetricsConfig(InetSocketAddress listen, boolean allowRemote) {

    /** Default endpoint. */
    public static final InetSocketAddress DEFAULT_LISTEN = ListenerConfig.parseAddress("127.0.0.1:9151");

    /** Refuses a non-loopback address unless {@code allowRemote}. */
    public MetricsConfig {
        Objects.requireNonNull(listen, "listen");
        if (!allowRemote && !listen.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException(AddressSyntax.format(listen) + " is not a loopback address; set"
                    + " allow-remote = true to serve metrics beyond this host");
        }
    }

    @Override
    public String toString() {
        return "metrics on " + AddressSyntax.format(listen) + (allowRemote ? " (remote allowed)" : "");
    }
}
