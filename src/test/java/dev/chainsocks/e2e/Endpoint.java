package dev.chainsocks.e2e;

/**
 * A host and a port, printed the way URLs and most tools want it: {@code 198.19.2.2:1080} or {@code [fd00:2::2]:1080}.
 */
public record Endpoint(String host, int port) {

    public Endpoint {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    public static Endpoint of(String host, int port) {
        return new Endpoint(host, port);
    }

    public boolean isIpv6() {
        return host.contains(":");
    }

    /** The host as it appears in a URL: IPv6 literals in brackets. */
    public String urlHost() {
        return isIpv6() ? "[" + host + "]" : host;
    }

    /** {@code scheme://host:port}, e.g. {@code socks5://198.19.2.2:1080}. */
    public String url(String scheme) {
        return scheme + "://" + this;
    }

    @Override
    public String toString() {
        return urlHost() + ":" + port;
    }
}
