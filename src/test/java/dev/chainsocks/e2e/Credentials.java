package dev.chainsocks.e2e;

/** A user name and password for a proxy that asks for them. */
public record Credentials(String user, String password) {

    public Credentials {
        if (user == null || user.isEmpty() || password == null || password.isEmpty()) {
            throw new IllegalArgumentException("user and password must not be empty");
        }
    }

    /** {@code user:password}, as curl's {@code --proxy-user} and URL user-info take it. */
    public String userInfo() {
        return user + ":" + password;
    }

    @Override
    public String toString() {
        return user + ":***";
    }
}
