package dev.chainsocks.chain;

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
 */
public record GssapiHopOptions(String service, Optional<String> principal, Optional<Path> keytab,
        Optional<Path> credentialCache) {

    /** The service Dante and most SOCKS servers use when none is configured. */
    public static final String DEFAULT_SERVICE = "rcmd";

    public GssapiHopOptions {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(keytab, "keytab");
        Objects.requireNonNull(credentialCache, "credentialCache");
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
