package dev.chainsocks.server;

import dev.chainsocks.gssapi.Krb5Context;
import dev.chainsocks.gssapi.Krb5Login;
import dev.chainsocks.proto.GssapiContext;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How the server accepts SOCKS5 GSS-API (RFC 1961, Kerberos V5) clients: with the keys in {@code keytab}, for
 * {@code principal} ({@code rcmd/proxy.example@EXAMPLE.TEST}) or for any principal the keytab holds. The client's
 * authenticated principal becomes the session's user.
 */
public record GssapiAcceptance(Path keytab, Optional<String> principal) {

    public GssapiAcceptance {
        Objects.requireNonNull(keytab, "keytab");
        Objects.requireNonNull(principal, "principal");
    }

    /** A fresh acceptor context per client, all sharing one login (the keytab is read off the loops). */
    Supplier<GssapiContext> contexts() {
        Krb5Login login = Krb5Login.shared(new Krb5Login.Source(principal, Optional.of(keytab), Optional.empty(),
                false));
        return () -> Krb5Context.acceptor(login, principal.orElse(null));
    }

    @Override
    public String toString() {
        return "GSS-API (Kerberos V5) for " + principal.orElse("any principal") + " in keytab " + keytab;
    }
}
