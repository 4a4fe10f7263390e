package dev.chainsocks.server;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.ServerHandshake;
import dev.chainsocks.proto.http.HttpProxyServerHandshake;
import dev.chainsocks.proto.socks4.Socks4ServerHandshake;
import dev.chainsocks.proto.socks5.Socks5GssapiProtection;
import dev.chainsocks.proto.socks5.Socks5ServerHandshake;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Tells from a client's first byte which protocol it speaks, so one listening port can serve all of them: SOCKS4
 * and 4a requests start with VN 0x04, SOCKS5 greetings with VER 0x05, and an HTTP/1.x request with the method
 * name, an upper-case ASCII letter for every method in use (RFC 9110 section 9 methods are case-sensitive and
 * upper-case).
 */
public final class ProtocolSniffer {

    /** What the first byte says. SOCKS4 covers 4a: only the request's DSTIP tells them apart. */
    public enum Guess { SOCKS4, SOCKS5, HTTP, UNKNOWN }

    private ProtocolSniffer() {
    }

    public static Guess classify(int firstByte) {
        int b = firstByte & 0xff;
        if (b == 0x04) {
            return Guess.SOCKS4;
        }
        if (b == 0x05) {
            return Guess.SOCKS5;
        }
        if (b >= 'A' && b <= 'Z') {
            return Guess.HTTP;
        }
        return Guess.UNKNOWN;
    }

    /**
     * A server handshake for the protocol the first byte announces, or empty for an unknown byte (close the
     * connection). Peek the byte; the handshake must receive it too.
     */
    public static Optional<ServerHandshake> handshakeFor(int firstByte, Authenticator authenticator) {
        return handshakeFor(firstByte, authenticator, null);
    }

    /** As {@link #handshakeFor(int, Authenticator)}, with SOCKS5 GSS-API offered when {@code gssapi} is not null. */
    public static Optional<ServerHandshake> handshakeFor(int firstByte, Authenticator authenticator,
            Supplier<GssapiContext> gssapi) {
        return handshakeFor(firstByte, authenticator, gssapi, Socks5GssapiProtection.NONE);
    }

    /** As above, agreeing at least {@code minimumProtection} with a GSS-API client. */
    public static Optional<ServerHandshake> handshakeFor(int firstByte, Authenticator authenticator,
            Supplier<GssapiContext> gssapi, Socks5GssapiProtection minimumProtection) {
        return switch (classify(firstByte)) {
            case SOCKS4 -> Optional.of(new Socks4ServerHandshake(authenticator));
            case SOCKS5 -> Optional.of(new Socks5ServerHandshake(authenticator, gssapi, minimumProtection));
            case HTTP -> Optional.of(new HttpProxyServerHandshake(authenticator));
            case UNKNOWN -> Optional.empty();
        };
    }
}
