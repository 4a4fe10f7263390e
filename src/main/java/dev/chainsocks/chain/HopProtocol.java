package dev.chainsocks.chain;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How chainsocks talks to one proxy in a chain, named by the scheme of the hop's URI.
 *
 * <p>What a hop can ask its proxy to connect to decides which chains are possible: plain SOCKS4 carries only IPv4
 * addresses, SOCKS4a adds host names, SOCKS5 and HTTP CONNECT carry names and both IP families. {@link #SOCKS5}
 * sends an address as an IP when the next target is an IP and as a DOMAIN when it is a name; {@link #SOCKS5H} is
 * the same on the wire here, because chainsocks never resolves a hop's next target locally, and exists so URIs
 * copied from curl or proxychains keep working.
 */
public enum HopProtocol {
    /** SOCKS4: IPv4 addresses only, optional userid, no password. */
    SOCKS4("socks4", false, false, false),
    /** SOCKS4a: IPv4 addresses and host names, optional userid, no password. */
    SOCKS4A("socks4a", true, false, false),
    /** SOCKS5 (RFC 1928), optional username/password (RFC 1929). */
    SOCKS5("socks5", true, true, true),
    /** SOCKS5 with names always sent to the proxy for resolution. */
    SOCKS5H("socks5h", true, true, true),
    /** SOCKS5 with GSS-API authentication (RFC 1961, Kerberos V5); options in the URI's query. */
    SOCKS5_GSSAPI("socks5+gssapi", true, true, false),
    /** HTTP CONNECT, optional Basic authentication. */
    HTTP("http", true, true, true),
    /**
     * Plain HTTP relayed through a forwarding proxy: no handshake; the intercepted client's HTTP/1 request is sent
     * to the proxy in absolute form ({@code GET http://host/path}), for proxies that refuse CONNECT to port 80.
     * Optional Basic authentication. Only the last hop of a chain: nothing can be tunnelled through it.
     */
    HTTP_RELAY("http-relay", true, true, true);

    private final String scheme;
    private final boolean names;
    private final boolean ipv6;
    private final boolean password;

    HopProtocol(String scheme, boolean names, boolean ipv6, boolean password) {
        this.scheme = scheme;
        this.names = names;
        this.ipv6 = ipv6;
        this.password = password;
    }

    /** The URI scheme, lower case: {@code socks5}. */
    public String scheme() {
        return scheme;
    }

    /** Whether this hop can ask its proxy to connect to a host name (the proxy resolves it). */
    public boolean canCarryNames() {
        return names;
    }

    /** Whether this hop can ask its proxy to connect to an IPv6 address. */
    public boolean canCarryIpv6() {
        return ipv6;
    }

    /** Whether credentials for this hop may include a password (SOCKS4 and SOCKS4a carry a userid only). */
    public boolean acceptsPassword() {
        return password;
    }

    /** Whether this is one of the HTTP hops, which accept an empty password in Basic authentication. */
    public boolean isHttp() {
        return this == HTTP || this == HTTP_RELAY;
    }

    /** Whether this hop relays the client's own requests instead of opening a tunnel: it must be the last hop. */
    public boolean relaysRequests() {
        return this == HTTP_RELAY;
    }

    /** The protocol for a scheme, ignoring case; empty for an unknown scheme. */
    public static Optional<HopProtocol> fromScheme(String scheme) {
        String lower = scheme.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(p -> p.scheme.equals(lower)).findFirst();
    }

    /** "socks4, socks4a, socks5, socks5h, socks5+gssapi, http or http-relay", for error messages. */
    public static String validSchemes() {
        String all = Arrays.stream(values()).map(HopProtocol::scheme).collect(Collectors.joining(", "));
        int last = all.lastIndexOf(", ");
        return all.substring(0, last) + " or " + all.substring(last + 2);
    }

    @Override
    public String toString() {
        return scheme;
    }
}
