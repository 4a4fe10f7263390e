package dev.chainsocks.proto;

/**
 * The server handshakes' view of the user list: a pure decision, no I/O. SOCKS5 uses RFC 1929 username/password,
 * HTTP uses Basic credentials, SOCKS4 has only a userid (no password) and is admitted when that userid names a
 * known user.
 */
public interface Authenticator {

    /** No users configured: every client is admitted without credentials. */
    Authenticator NONE = new Authenticator() {
        @Override
        public boolean required() {
            return false;
        }

        @Override
        public boolean verify(String user, String password) {
            return true;
        }

        @Override
        public boolean knowsUser(String user) {
            return true;
        }

        @Override
        public String toString() {
            return "no authentication";
        }
    };

    /** Whether clients must authenticate. */
    boolean required();

    /** Whether the user/password pair is valid (constant-time comparison of the password). */
    boolean verify(String user, String password);

    /** Whether a user of this name exists (for SOCKS4 userids). */
    boolean knowsUser(String user);
}
