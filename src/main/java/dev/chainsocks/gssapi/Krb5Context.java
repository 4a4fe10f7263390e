package dev.chainsocks.gssapi;

import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.GssapiException;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Objects;
import javax.security.auth.Subject;
import javax.security.auth.login.LoginException;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSCredential;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.GSSName;
import org.ietf.jgss.MessageProp;
import org.ietf.jgss.Oid;

/**
 * A Kerberos V5 GSS-API security context through the JDK's JGSS ({@code org.ietf.jgss}, mechanism
 * 1.2.840.113554.1.2.2), as initiator (towards a proxy's service principal) or acceptor (for the bundled server).
 * Every call runs as the {@link Krb5Login}'s subject and may block: the first step logs in if needed, reads a
 * keytab, asks the KDC for a service ticket or writes the replay cache.
 */
public final class Krb5Context implements GssapiContext {

    static final Oid KRB5_MECHANISM = oid("1.2.840.113554.1.2.2");
    static final Oid KRB5_PRINCIPAL_NAME = oid("1.2.840.113554.1.2.2.1");

    private final Krb5Login login;
    /** The proxy's service principal (initiator), or the one to accept for (acceptor; null: any in the keytab). */
    private final String servicePrincipal;
    private GSSContext context;

    private Krb5Context(Krb5Login login, String servicePrincipal) {
        this.login = Objects.requireNonNull(login, "login");
        this.servicePrincipal = servicePrincipal;
    }

    /** A client context towards {@code servicePrincipal} ({@code rcmd/proxy.example[@REALM]}). */
    public static Krb5Context initiator(Krb5Login login, String servicePrincipal) {
        if (!login.source().initiator()) {
            throw new IllegalArgumentException("an initiator needs initiator credentials");
        }
        return new Krb5Context(login, Objects.requireNonNull(servicePrincipal, "servicePrincipal"));
    }

    /** A server context accepting for {@code servicePrincipal}, or for any principal in the keytab when null. */
    public static Krb5Context acceptor(Krb5Login login, String servicePrincipal) {
        if (login.source().initiator()) {
            throw new IllegalArgumentException("an acceptor needs acceptor credentials");
        }
        return new Krb5Context(login, servicePrincipal);
    }

    @Override
    public byte[] step(byte[] peerToken) throws GssapiException {
        return call("context step", () -> {
            if (context == null) {
                context = create();
            }
            byte[] out = login.source().initiator()
                    ? context.initSecContext(peerToken, 0, peerToken.length)
                    : context.acceptSecContext(peerToken, 0, peerToken.length);
            return out == null ? new byte[0] : out;
        });
    }

    private GSSContext create() throws GSSException {
        GSSManager manager = GSSManager.getInstance();
        if (login.source().initiator()) {
            GSSName server = manager.createName(servicePrincipal, KRB5_PRINCIPAL_NAME);
            GSSContext created = manager.createContext(server, KRB5_MECHANISM, null, GSSContext.DEFAULT_LIFETIME);
            created.requestMutualAuth(true);
            created.requestInteg(true);
            created.requestConf(true);
            created.requestCredDeleg(false);
            return created;
        }
        GSSCredential credential = null;
        if (servicePrincipal != null) {
            credential = manager.createCredential(manager.createName(servicePrincipal, KRB5_PRINCIPAL_NAME),
                    GSSCredential.INDEFINITE_LIFETIME, KRB5_MECHANISM, GSSCredential.ACCEPT_ONLY);
        }
        return manager.createContext(credential);
    }

    @Override
    public boolean established() {
        return context != null && context.isEstablished();
    }

    @Override
    public byte[] wrap(byte[] message) throws GssapiException {
        return call("wrap", () -> context.wrap(message, 0, message.length, new MessageProp(0, false)));
    }

    @Override
    public byte[] unwrap(byte[] token) throws GssapiException {
        return call("unwrap", () -> context.unwrap(token, 0, token.length, new MessageProp(0, false)));
    }

    // The three calls below use only the established context's keys: no Subject.doAs, since the login's lock may be
    // held by a KDC round trip on another thread, and these run on an event loop.

    @Override
    public byte[] wrapMessage(byte[] message, boolean confidential) throws GssapiException {
        try {
            return context.wrap(message, 0, message.length, new MessageProp(0, confidential));
        } catch (GSSException e) {
            throw new GssapiException("GSS-API wrap failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Unwrapped unwrapMessage(byte[] token) throws GssapiException {
        MessageProp prop = new MessageProp(0, false);
        try {
            byte[] message = context.unwrap(token, 0, token.length, prop);
            return new Unwrapped(message, prop.getPrivacy());
        } catch (GSSException e) {
            throw new GssapiException("GSS-API unwrap failed: " + e.getMessage(), e);
        }
    }

    @Override
    public int wrapSizeLimit(boolean confidential, int maxToken) throws GssapiException {
        try {
            return context.getWrapSizeLimit(0, confidential, maxToken);
        } catch (GSSException e) {
            throw new GssapiException("GSS-API wrap size limit: " + e.getMessage(), e);
        }
    }

    @Override
    public String peerName() throws GssapiException {
        return call("peer name", () -> (login.source().initiator() ? context.getTargName() : context.getSrcName())
                .toString());
    }

    @Override
    public void dispose() {
        if (context != null) {
            try {
                context.dispose();
            } catch (GSSException ignored) {
                // nothing left to release
            }
        }
    }

    private <T> T call(String what, PrivilegedExceptionAction<T> action) throws GssapiException {
        Subject subject;
        try {
            subject = login.subject();
        } catch (LoginException e) {
            throw new GssapiException(e.getMessage(), e);
        }
        try {
            return Subject.doAs(subject, action);
        } catch (PrivilegedActionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof GSSException gss && gss.getMajor() == GSSException.NO_CRED) {
                login.forget(); // a cache refreshed since, or a keytab rotated: log in again next time
            }
            throw new GssapiException(cause instanceof GSSException gss ? gss.getMessage()
                    : what + ": " + cause, cause);
        }
    }

    private static Oid oid(String dotted) {
        try {
            return new Oid(dotted);
        } catch (GSSException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    public String toString() {
        return login.source().initiator()
                ? "Kerberos V5 as " + login.source() + " for " + servicePrincipal
                : "Kerberos V5 acceptor for " + (servicePrincipal == null ? "any principal in the keytab"
                        : servicePrincipal);
    }
}
