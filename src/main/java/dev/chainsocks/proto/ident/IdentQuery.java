package dev.chainsocks.proto.ident;

/**
 * An RFC 1413 query, and the port pair every response repeats. RFC 1413 calls the host that runs identd the
 * "server" and the host that asks the "client": {@code portOnServer} is the port of the connection on the identd
 * host (for the bundled SOCKS server, the SOCKS client's own port), {@code portOnClient} the port on the asking host
 * (the SOCKS server's listening port). On the wire: {@code "6193 , 23\r\n"}.
 */
public record IdentQuery(int portOnServer, int portOnClient) {

    public IdentQuery {
        checkPort(portOnServer, "port on the identd host");
        checkPort(portOnClient, "port on the asking host");
    }

    private static void checkPort(int port, String what) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " must be 1..65535, got " + port);
        }
    }

    @Override
    public String toString() {
        return portOnServer + " , " + portOnClient;
    }
}
