package dev.chainsocks.e2e.redirect;

/**
 * Every way chainsocks can talk to a hop, with how the bundled server names the request in its access log
 * ({@code via=socks5 CONNECT user=alice}).
 */
enum HopKind {
    SOCKS4("socks4", false, "socks4 CONNECT"),
    SOCKS4A("socks4a", false, "socks4a CONNECT"),
    SOCKS5("socks5", false, "socks5 CONNECT"),
    SOCKS5_PASSWORD("socks5", true, "socks5 CONNECT user=" + HopKind.USER),
    SOCKS5H("socks5h", false, "socks5 CONNECT"),
    HTTP_CONNECT("http", false, "http CONNECT"),
    HTTP_CONNECT_BASIC("http", true, "http CONNECT user=" + HopKind.USER);

    static final String USER = "alice";
    static final String PASSWORD = "s3cret";

    private final String scheme;
    private final boolean authenticated;
    private final String serverView;

    HopKind(String scheme, boolean authenticated, String serverView) {
        this.scheme = scheme;
        this.authenticated = authenticated;
        this.serverView = serverView;
    }

    /** Whether the hop must be the bundled server started with {@code --user alice:s3cret}. */
    boolean authenticated() {
        return authenticated;
    }

    /** The hop URI for {@code hop}'s IPv4 endpoint, with the credentials when this kind has them. */
    String uri(BundledHop hop) {
        return hop.uri(scheme, authenticated ? USER + ":" + PASSWORD : null);
    }

    /**
     * The server's {@code via=} for a request to an IP address. A SOCKS4a client asked for an address (not a name)
     * sends a plain SOCKS4 request, so the server sees SOCKS4.
     */
    String serverViewForAddress() {
        return this == SOCKS4A ? SOCKS4.serverView : serverView;
    }

    /** The server's {@code via=} for a request to a host name. */
    String serverViewForName() {
        return serverView;
    }

    /** A chain name for this kind: {@code socks5-password-middle}. */
    String chainName(String position) {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + "-" + position;
    }
}
