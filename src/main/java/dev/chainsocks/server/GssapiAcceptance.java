package dev.chainsocks.server;

import dev.chainsocks.gssapi.Krb5Context;
import dev.chainsocks.gssapi.Krb5Login;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.socks5.Socks5GssapiProtection;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How the server accepts SOCKS5 GSS-API (RFC 1961, Kerberos V5) clients: with the keys in {@code keytab}, for
 * {@code principal} ({@code rcmd/proxy.example@EXAMPLE.TEST}) or for any principal the keytab holds. The client's
 * authenticated principal becomes the session's user. {@code minimumProtection} is the least per-message
 * protection agreed with a client (RFC 1961 section 4.3): a client asking for less gets this much.
 */
public record GssapiAcceptance(Path keytab, Optional<String> principal, Socks5GssapiProtection minimumProtection) {

    public GssapiAcceptance {
        Objects.requireNonNull(keytab, "keytab");
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(minimumProtection, "minimumProtection");
        if (minimumProtection == Socks5GssapiProtection.PER_MESSAGE) {
            throw new IllegalArgumentException("the minimum protection is none, integrity or confidentiality");
        }
    }

    /** With no minimum protection: the client's request is agreed. */
    public GssapiAcceptance(Path keytab, Optional<String> principal) {
        this(keytab, principal, Socks5GssapiProtection.NONE);
    }

    /** A fresh acceptor context per client, all sharing one login (the keytab is read off the loops). */
    Supplier<GssapiContext> contexts() {
        Krb5Login login = Krb5Login.shared(new Krb5Login.Source(principal, Optional.of(keytab), Optional.empty(),
                false));
        return () -> Krb5Context.acceptor(login, principal.orElse(null));
    }

    @Override
    public String toString() {
        return "GSS-API (Kerberos V5) for " + principal.orElse("any principal") + " in keytab " + keytab
                + ", protection at least " + minimumProtection.name().toLowerCase(java.util.Locale.ROOT);
    }
}
