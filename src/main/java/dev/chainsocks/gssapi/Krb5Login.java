package dev.chainsocks.gssapi;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosTicket;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

/**
 * Kerberos V5 credentials for one principal, got through the JDK's {@code Krb5LoginModule} with a configuration
 * built here (no JAAS file): from a keytab, or from a credential cache. The {@link Subject} is kept and logged in
 * again when its ticket-granting ticket is about to expire, so a keytab principal renews on its own and a cache
 * refreshed by {@code kinit} is read again. Blocking (files, KDC): call only off the event loops.
 *
 * <p>The realm, KDCs and encryption types come from the JDK's krb5.conf: {@code -Djava.security.krb5.conf=FILE},
 * else {@code /etc/krb5.conf}. The JDK does not read {@code KRB5_CONFIG}.
 */
public final class Krb5Login {

    /** Log in again when the TGT has less than this left. */
    static final Duration RENEW_BEFORE = Duration.ofMinutes(2);

    /** Whose credentials and where from. */
    public record Source(Optional<String> principal, Optional<Path> keytab, Optional<Path> credentialCache,
            boolean initiator) {
        public Source {
            Objects.requireNonNull(principal, "principal");
            Objects.requireNonNull(keytab, "keytab");
            Objects.requireNonNull(credentialCache, "credentialCache");
            if (keytab.isPresent() && credentialCache.isPresent()) {
                throw new IllegalArgumentException("a keytab or a credential cache, not both");
            }
            if (!initiator && keytab.isEmpty()) {
                throw new IllegalArgumentException("an acceptor needs a keytab");
            }
        }

        @Override
        public String toString() {
            return principal.orElse(initiator ? "the cache's principal" : "any principal in the keytab")
                    + keytab.map(k -> " with keytab " + k).orElse("")
                    + credentialCache.map(c -> " from credential cache " + c).orElse(
                            keytab.isEmpty() ? " from the default credential cache" : "");
        }
    }

    private static final Map<Source, Krb5Login> SHARED = new ConcurrentHashMap<>();

    private final Source source;
    private Subject subject;

    /** One login per source in the process, so every connection of a hop shares its tickets. */
    public static Krb5Login shared(Source source) {
        return SHARED.computeIfAbsent(source, Krb5Login::new);
    }

    public Krb5Login(Source source) {
        this.source = Objects.requireNonNull(source, "source");
    }

    public Source source() {
        return source;
    }

    /** The logged-in subject, logging in (again) when needed. Blocking. */
    public synchronized Subject subject() throws LoginException {
        if (subject == null || (source.initiator() && expiring(subject))) {
            subject = login();
        }
        return subject;
    }

    /** Forgets the subject, so the next use logs in again (after a failure that may be stale credentials). */
    public synchronized void forget() {
        subject = null;
    }

    private static boolean expiring(Subject subject) {
        Instant limit = Instant.now().plus(RENEW_BEFORE);
        return subject.getPrivateCredentials(KerberosTicket.class).stream()
                .filter(t -> t.getServer().getName().startsWith("krbtgt/"))
                .noneMatch(t -> t.getEndTime() != null && t.getEndTime().toInstant().isAfter(limit));
    }

    private Subject login() throws LoginException {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("doNotPrompt", "true");
        options.put("refreshKrb5Config", "false");
        options.put("isInitiator", Boolean.toString(source.initiator()));
        if (source.keytab().isPresent()) {
            options.put("useKeyTab", "true");
            options.put("keyTab", source.keytab().get().toString());
            options.put("storeKey", Boolean.toString(!source.initiator()));
            options.put("principal", source.principal().orElse("*"));
        } else {
            options.put("useTicketCache", "true");
            source.credentialCache().ifPresent(c -> options.put("ticketCache", c.toString()));
            source.principal().ifPresent(p -> options.put("principal", p));
        }
        Configuration configuration = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new AppConfigurationEntry[] {new AppConfigurationEntry(
                        "com.sun.security.auth.module.Krb5LoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
            }
        };
        LoginContext context = new LoginContext("chainsocks", new Subject(), null, configuration);
        try {
            context.login();
        } catch (LoginException e) {
            LoginException named = new LoginException("Kerberos login as " + source + " failed: "
                    + cacheDiagnosis().map(d -> d + " (" + e.getMessage().strip() + ")").orElse(e.getMessage()));
            named.initCause(e);
            throw named;
        }
        return context.getSubject();
    }

    /**
     * Why a login from a credential cache file failed, when the cache can tell: missing, without a ticket-granting
     * ticket, or with one that expired. Empty for keytab logins and caches that are not files read here.
     */
    private Optional<String> cacheDiagnosis() {
        if (source.keytab().isPresent()) {
            return Optional.empty();
        }
        Optional<Path> file = source.credentialCache().or(() -> Optional.ofNullable(System.getenv("KRB5CCNAME"))
                .filter(name -> name.startsWith("FILE:") || name.startsWith("/"))
                .map(name -> Path.of(name.startsWith("FILE:") ? name.substring(5) : name)));
        if (file.isEmpty()) {
            return Optional.empty();
        }
        if (!java.nio.file.Files.exists(file.get())) {
            return Optional.of("there is no credential cache " + file.get() + "; get a ticket into it with kinit or"
                    + " k5start");
        }
        return CredentialCacheFile.read(file.get()).map(contents -> contents.ticketGrantingTicketEnd()
                .filter(end -> !end.isAfter(Instant.now()))
                .map(end -> "the ticket-granting ticket of " + contents.principal() + " in credential cache "
                        + file.get() + " expired at " + end + "; renew it (kinit, k5start) or give the hop a"
                        + " keytab")
                .orElse(contents.ticketGrantingTicketEnd().isEmpty()
                        ? "credential cache " + file.get() + " holds no ticket-granting ticket for "
                                + contents.principal() : null));
    }

    @Override
    public String toString() {
        return source.toString();
    }
}
