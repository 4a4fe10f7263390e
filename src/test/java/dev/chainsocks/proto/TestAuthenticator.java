package dev.chainsocks.proto;

import java.util.Map;

/** A fixed user list for server handshake tests; SOCKS4 requests are decided by the real {@link Socks4Policy}. */
public record TestAuthenticator(Map<String, String> passwords, Socks4Policy socks4) implements Authenticator {

    /** fred/secret and Fred/(any), the users the test vectors use; SOCKS4 refused, the default. */
    public static final TestAuthenticator USERS = new TestAuthenticator(Map.of("fred", "secret", "Fred", "x"),
            Socks4Policy.REFUSE);

    /** The same users, with SOCKS4 userids that name one of them admitted (--socks4-userid-only). */
    public static final TestAuthenticator USERS_SOCKS4_BY_USERID = new TestAuthenticator(USERS.passwords(),
            Socks4Policy.USERID_ONLY);

    /** The same users, with SOCKS4 userids that name one of them confirmed by identd first (--socks4-identd). */
    public static final TestAuthenticator USERS_SOCKS4_BY_IDENTD = new TestAuthenticator(USERS.passwords(),
            Socks4Policy.IDENTD);

    @Override
    public boolean required() {
        return true;
    }

    @Override
    public boolean verify(String user, String password) {
        return password.equals(passwords.get(user));
    }

    @Override
    public Socks4Admission admitSocks4(String userId) {
        return socks4.admit(userId, passwords::containsKey);
    }

    @Override
    public String toString() {
        return "users, SOCKS4 " + socks4;
    }
}
