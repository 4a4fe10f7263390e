package dev.chainsocks.proto.http;

import dev.chainsocks.syntax.AddressSyntax;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether and how an HTTP hop names the intercepted client to its proxy (redsocks' {@code disclose_src}): no
 * header, {@code X-Forwarded-For: 198.18.1.2}, or {@code Forwarded: for=198.18.1.2} (RFC 7239; IPv6 quoted and
 * bracketed, {@code for="[fd00:1::2]"}).
 */
public enum DiscloseSource {
    /** No header. */
    OFF("off"),
    /** {@code X-Forwarded-For: ADDRESS}. */
    X_FORWARDED_FOR("x-forwarded-for"),
    /** {@code Forwarded: for=ADDRESS} (RFC 7239). */
    FORWARDED("forwarded");

    private final String configName;

    DiscloseSource(String configName) {
        this.configName = configName;
    }

    /** The name used in the configuration file. */
    public String configName() {
        return configName;
    }

    /** The value for a configuration name, ignoring case; empty when unknown. */
    public static Optional<DiscloseSource> fromConfigName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(v -> v.configName.equals(lower)).findFirst();
    }

    /** The headers naming {@code client}: none for {@link #OFF}. */
    public List<HttpHeader> headers(InetSocketAddress client) {
        String literal = AddressSyntax.literal(client.getAddress());
        return switch (this) {
            case OFF -> List.of();
            case X_FORWARDED_FOR -> List.of(new HttpHeader("X-Forwarded-For", literal));
            case FORWARDED -> List.of(new HttpHeader("Forwarded", client.getAddress() instanceof Inet6Address
                    ? "for=\"[" + literal + "]\"" : "for=" + literal));
        };
    }

    @Override
    public String toString() {
        return configName;
    }
}
