package dev.chainsocks.chain;

import dev.chainsocks.proto.socks5.Socks5GssapiProtection;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a {@code socks5+gssapi://} hop authenticates with Kerberos V5 (GSS-API, RFC 1961), from the hop URI's query:
 * {@code socks5+gssapi://proxy.example:1080?service=rcmd&principal=alice%40EXAMPLE.TEST&keytab=/etc/chainsocks/alice.keytab}.
 *
 * @param service         the proxy's service: a service name ({@code rcmd}, Dante's default) that becomes
 *                        {@code rcmd/<hop host>}, or a whole principal such as {@code rcmd/proxy.example} or
 *                        {@code rcmd/proxy.example@EXAMPLE.TEST}
 * @param principal       the client principal; required with a keytab, otherwise the credential cache's
 * @param keytab          a keytab holding the client principal's key (chainsocks gets and renews its own tickets)
 * @param credentialCache a credential cache file someone else keeps fresh ({@code kinit}, k5start); with neither
 *                        this nor a keytab, the default cache ({@code KRB5CCNAME}, {@code /tmp/krb5cc_<uid>})
 * @param protection      the per-message protection this hop requires for everything after its handshake (RFC 1961
 *                        sections 4.3 and 5): {@code none} (the default), {@code integrity} or
 *                        {@code confidentiality}; the proxy may choose more, never less
 */
public record GssapiHopOptions(String service, Optional<String> principal, Optional<Path> keytab,
        Optional<Path> credentialCache, Socks5GssapiProtection protection) {

    /** The service Dante and most SOCKS servers use when none is configured. */
    public static final String DEFAULT_SERVICE = "rcmd";

    public GssapiHopOptions {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(keytab, "keytab");
        Objects.requireNonNull(credentialCache, "credentialCache");
        Objects.requireNonNull(protection, "protection");
        if (protection == Socks5GssapiProtection.PER_MESSAGE) {
            throw new IllegalArgumentException("protection is none, integrity or confidentiality");
        }
        if (service.isEmpty() || service.startsWith("/") || service.startsWith("@")) {
            throw new IllegalArgumentException("service \"" + service + "\" is not a service name or principal");
        }
        if (keytab.isPresent() && credentialCache.isPresent()) {
            throw new IllegalArgumentException("keytab and ccache exclude each other: give one");
        }
        if (keytab.isPresent() && principal.isEmpty()) {
            throw new IllegalArgumentException("a keytab needs principal= naming whose key to use");
        }
        keytab.ifPresent(p -> requireAbsolute("keytab", p));
        credentialCache.ifPresent(p -> requireAbsolute("ccache", p));
        principal.ifPresent(p -> {
            if (p.isEmpty()) {
                throw new IllegalArgumentException("principal is empty");
            }
        });
    }

    /** Without per-message protection. */
    public GssapiHopOptions(String service, Optional<String> principal, Optional<Path> keytab,
            Optional<Path> credentialCache) {
        this(service, principal, keytab, credentialCache, Socks5GssapiProtection.NONE);
    }

    /** The {@code protection=} values, as written in a hop URI. */
    public static Optional<Socks5GssapiProtection> protectionNamed(String name) {
        return switch (name) {
            case "none" -> Optional.of(Socks5GssapiProtection.NONE);
            case "integrity" -> Optional.of(Socks5GssapiProtection.INTEGRITY);
            case "confidentiality" -> Optional.of(Socks5GssapiProtection.CONFIDENTIALITY);
            default -> Optional.empty();
        };
    }

    /** The name of {@link #protection()} as a hop URI writes it. */
    public String protectionName() {
        return protection.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Whether everything after this hop's handshake must travel as protected messages (at least). */
    public boolean protects() {
        return protection != Socks5GssapiProtection.NONE;
    }

    /** The default: service {@code rcmd}, the default credential cache and its principal. */
    public static GssapiHopOptions defaults() {
        return new GssapiHopOptions(DEFAULT_SERVICE, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** Whether {@link #service()} is a whole principal rather than a service name to join with the hop's host. */
    public boolean servicePrincipalGiven() {
        return service.contains("/");
    }

    /** The proxy's service principal for a hop on {@code host}: {@code rcmd/proxy.example}. */
    public String servicePrincipal(String host) {
        return servicePrincipalGiven() ? service : service + "/" + host;
    }

    private static void requireAbsolute(String key, Path path) {
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException(key + " must be an absolute path, got " + path);
        }
    }
}
