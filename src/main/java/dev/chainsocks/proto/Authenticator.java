package dev.chainsocks.proto;

/**
 * The server handshakes' view of the user list: a pure decision, no I/O. SOCKS5 uses RFC 1929 username/password,
 * HTTP uses Basic credentials. SOCKS4 has only a userid and no password: what happens to it is a
 * {@link Socks4Policy}, refusal unless the operator chose otherwise.
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
        public Socks4Admission admitSocks4(String userId) {
            return Socks4Admission.ADMITTED;
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

    /**
     * What to do with a SOCKS4 or SOCKS4a request that carries {@code userId} ({@code ""} when it sent none).
     * Always {@link Socks4Admission#ADMITTED} when authentication is not required.
     */
    Socks4Admission admitSocks4(String userId);
}
