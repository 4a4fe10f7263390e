package dev.chainsocks.proto.socks5;

import static dev.chainsocks.proto.ProtocolCode.hex;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.WireReader;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * One datagram of a SOCKS5 UDP association (RFC 1928 section 7): {@code RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA}.
 * Between client and relay every datagram carries this header; {@code destination} is where the payload goes
 * (client to relay) or where it came from (relay to client).
 *
 * <p>chainsocks does not reassemble fragments: RFC 1928 lets an implementation without fragmentation support drop
 * any datagram whose FRAG is not 0, and {@link #decode} reports such a datagram as malformed so the relay drops it.
 * A datagram is always whole, so a short one is malformed too ({@code decode} never answers "need more").
 */
public record Socks5UdpDatagram(Destination destination, byte[] payload) {

    public Socks5UdpDatagram {
        Objects.requireNonNull(destination, "destination");
        payload = payload.clone();
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    /** Header plus payload, ready for one {@code send}. */
    public ByteBuffer encode() {
        return encode(destination, ByteBuffer.wrap(payload));
    }

    /** The datagram for {@code payload}'s remaining bytes (its position is not moved). */
    public static ByteBuffer encode(Destination destination, ByteBuffer payload) {
        ByteBuffer out = ByteBuffer.allocate(3 + Socks5Codec.addressLength(destination) + payload.remaining());
        out.putShort((short) 0).put((byte) 0);
        Socks5Codec.writeAddress(out, destination);
        return out.put(payload.duplicate()).flip();
    }

    /**
     * Parses one received datagram (all of {@code datagram}'s remaining bytes). On success the buffer is consumed;
     * otherwise it is untouched and the result is {@link Decoded.Malformed}: truncated header, FRAG other than 0,
     * unknown address type. Never {@link Decoded.NeedMore}.
     */
    public static Decoded<Socks5UdpDatagram> decode(ByteBuffer datagram) {
        Decoded<Socks5UdpDatagram> decoded = WireReader.decode(datagram, r -> {
            r.u16(); // RSV, tolerated when not zero
            int fragment = r.u8();
            if (fragment != 0) {
                throw r.fail("SOCKS5 UDP datagram: fragment FRAG " + hex(fragment) + " not supported, dropped");
            }
            Destination destination = Socks5Codec.readAddress(r, "SOCKS5 UDP datagram");
            return new Socks5UdpDatagram(destination, r.rest());
        });
        if (decoded instanceof Decoded.NeedMore) {
            return new Decoded.Malformed<>("SOCKS5 UDP datagram: header truncated at " + datagram.remaining()
                    + " bytes", ReplyStatus.GENERAL_FAILURE);
        }
        return decoded;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Socks5UdpDatagram that
                && destination.equals(that.destination) && Arrays.equals(payload, that.payload);
    }

    @Override
    public int hashCode() {
        return 31 * destination.hashCode() + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "SOCKS5 UDP datagram " + destination + ", " + payload.length + " bytes";
    }
}
