package dev.chainsocks.proto.socks4;

import dev.chainsocks.proto.ClientHandshake;
import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.HandshakeOutcome;
import dev.chainsocks.proto.OutboundBuffer;
import java.net.Inet4Address;
import java.nio.ByteBuffer;

/**
 * The client side of SOCKS4 or SOCKS4a CONNECT: one request, one 8-byte reply.
 *
 * <p>Plain SOCKS4 ({@link #Socks4ClientHandshake(Destination, String)}) carries only IPv4 addresses: the caller
 * resolves a name first (this hop is the one place where local resolution is the only option) or refuses.
 * SOCKS4a ({@link #socks4a}) sends a name for the proxy to resolve. Neither can carry IPv6. The reply's port and
 * address are reported as the bound address, though for CONNECT servers usually send zeros.
 */
public final class Socks4ClientHandshake implements ClientHandshake {

    private final String protocol;
    private final Socks4Request request;
    private final OutboundBuffer outbound = new OutboundBuffer();
    private HandshakeOutcome outcome;

    /**
     * Plain SOCKS4 to an IPv4 destination.
     *
     * @param userId the USERID field, may be null or empty
     * @throws IllegalArgumentException for a name or an IPv6 destination
     */
    public Socks4ClientHandshake(Destination destination, String userId) {
        this("socks4", checkedForPlainSocks4(destination), userId);
    }

    private Socks4ClientHandshake(String protocol, Destination destination, String userId) {
        this.protocol = protocol;
        this.request = new Socks4Request(Socks4Command.CONNECT, destination, userId);
        outbound.append(Socks4Codec.encodeRequest(request));
    }

    /**
     * SOCKS4a: a name goes to the proxy unresolved (DSTIP 0.0.0.1), an IPv4 address as in plain SOCKS4.
     *
     * @throws IllegalArgumentException for an IPv6 destination
     */
    public static Socks4ClientHandshake socks4a(Destination destination, String userId) {
        if (destination instanceof Destination.Ip ip && !(ip.address() instanceof Inet4Address)) {
            throw new IllegalArgumentException("SOCKS4a cannot carry an IPv6 destination: " + destination);
        }
        return new Socks4ClientHandshake("socks4a", destination, userId);
    }

    private static Destination checkedForPlainSocks4(Destination destination) {
        if (destination instanceof Destination.Name) {
            throw new IllegalArgumentException("SOCKS4 cannot carry a host name (" + destination
                    + "): resolve it first or use SOCKS4a");
        }
        if (destination instanceof Destination.Ip ip && !(ip.address() instanceof Inet4Address)) {
            throw new IllegalArgumentException("SOCKS4 cannot carry an IPv6 destination: " + destination);
        }
        return destination;
    }

    @Override
    public void receive(ByteBuffer in) {
        if (outcome != null) {
            return;
        }
        Decoded<Socks4Reply> decoded = Socks4Codec.decodeReply(in);
        if (decoded instanceof Decoded.Malformed<Socks4Reply> malformed) {
            outcome = new HandshakeOutcome.ProtocolError(malformed.reason());
        } else if (decoded instanceof Decoded.Message<Socks4Reply> message) {
            Socks4Reply reply = message.message();
            outcome = reply.code() == Socks4ReplyCode.GRANTED
                    ? new HandshakeOutcome.Granted(reply.bound())
                    : new HandshakeOutcome.Refused(reply.code().status(), reply.code().toString());
        }
    }

    @Override
    public ByteBuffer outbound() {
        return outbound.buffer();
    }

    @Override
    public HandshakeOutcome outcome() {
        return outcome;
    }

    @Override
    public String toString() {
        return protocol + " " + request.command().name() + " " + request.destination();
    }
}
