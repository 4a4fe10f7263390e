package dev.chainsocks.proto;

import java.util.Map;

/** A fixed user list for server handshake tests. */
public record TestAuthenticator(Map<String, String> passwords) implements Authenticator {

    /** fred/secret and Fred/(any), the users the test vectors use. */
    public static final TestAuthenticator USERS = new TestAuthenticator(Map.of("fred", "secret", "Fred", "x"));

    @Override
    public boolean required() {
        return true;
    }

    @Override
    public boolean verify(String user, String password) {
        return password.equals(passwords.get(user));
    }

    @Override
    public boolean knowsUser(String user) {
        return passwords.containsKey(user);
    }
}
