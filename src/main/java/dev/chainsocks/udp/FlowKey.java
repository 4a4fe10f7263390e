package dev.chainsocks.udp;

import dev.chainsocks.syntax.AddressSyntax;
import java.net.InetSocketAddress;
import java.util.Objects;

/** What makes a flow: the client's address and port, and where its datagrams were going. */
record FlowKey(InetSocketAddress client, InetSocketAddress destination) {
    FlowKey {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(destination, "destination");
    }

    @Override
    public String toString() {
        return "client=" + AddressSyntax.format(client) + " dst=" + AddressSyntax.format(destination);
    }
}
