package dev.chainsocks.proto.socks5;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.GssapiContext;
import dev.chainsocks.proto.GssapiException;
import dev.chainsocks.proto.ProtectionException;
import dev.chainsocks.proto.ReplyStatus;
import dev.chainsocks.proto.StreamProtection;
import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * RFC 1961 section 5 per-message protection of a SOCKS5 GSS-API session: each piece of the stream travels as
 * {@code VER=1 MTYP=3 LEN(2) TOKEN}, the token being gss_wrap() of the piece with {@code conf_req} false for
 * {@link Socks5GssapiProtection#INTEGRITY} and true for {@link Socks5GssapiProtection#CONFIDENTIALITY}. A message
 * that is not an encapsulation (an abort, a stray context token), fails the mechanism's check, or arrives without
 * confidentiality when confidentiality was agreed, is malformed.
 *
 * <p>A message carries at most {@link #MAX_PLAINTEXT} bytes (less if the mechanism's token for that much would not
 * fit the 16-bit length): well under the RFC's 65535-byte token, so a 128 KiB relay read makes four messages.
 */
public final class Socks5GssapiStreamProtection implements StreamProtection {

    /** The most plaintext one message carries. */
    public static final int MAX_PLAINTEXT = 32 * 1024;
    /** Frame header: VER, MTYP, LEN(2). */
    static final int HEADER = 4;

    private final GssapiContext context;
    private final Socks5GssapiProtection level;
    private final boolean confidential;
    private final int maxPlaintext;

    /**
     * @param context an established context; from here on only its non-blocking per-message calls are used
     * @param level   {@link Socks5GssapiProtection#INTEGRITY} or {@link Socks5GssapiProtection#CONFIDENTIALITY}
     */
    public Socks5GssapiStreamProtection(GssapiContext context, Socks5GssapiProtection level) throws GssapiException {
        if (level != Socks5GssapiProtection.INTEGRITY && level != Socks5GssapiProtection.CONFIDENTIALITY) {
            throw new IllegalArgumentException("no per-message protection for " + level);
        }
        this.context = context;
        this.level = level;
        this.confidential = level == Socks5GssapiProtection.CONFIDENTIALITY;
        int limit = context.wrapSizeLimit(confidential, Socks5GssapiMessage.MAX_TOKEN_LENGTH);
        if (limit < 1) {
            throw new GssapiException("the mechanism cannot wrap any message in a " + Socks5GssapiMessage.MAX_TOKEN_LENGTH
                    + "-byte token");
        }
        this.maxPlaintext = Math.min(MAX_PLAINTEXT, limit);
    }

    public Socks5GssapiProtection level() {
        return level;
    }

    @Override
    public int maxPlaintext() {
        return maxPlaintext;
    }

    @Override
    public int maxMessageSize() {
        return HEADER + Socks5GssapiMessage.MAX_TOKEN_LENGTH;
    }

    @Override
    public ByteBuffer protect(ByteBuffer plaintext) throws ProtectionException {
        int n = Math.min(maxPlaintext, plaintext.remaining());
        byte[] piece = new byte[n];
        plaintext.get(piece);
        byte[] token;
        try {
            token = context.wrapMessage(piece, confidential);
        } catch (GssapiException e) {
            throw new ProtectionException(e.getMessage(), e);
        }
        if (token.length > Socks5GssapiMessage.MAX_TOKEN_LENGTH) {
            throw new ProtectionException("GSS-API wrapped " + n + " bytes into a token of " + token.length
                    + " bytes, more than the " + Socks5GssapiMessage.MAX_TOKEN_LENGTH + " it promised", null);
        }
        return ByteBuffer.allocate(HEADER + token.length).put((byte) Socks5GssapiCodec.VERSION)
                .put(Socks5GssapiMessageType.ENCAPSULATION.byteValue()).putShort((short) token.length).put(token)
                .flip();
    }

    @Override
    public Decoded<ByteBuffer> unprotect(ByteBuffer wire) {
        ByteBuffer view = wire.duplicate();
        Decoded<Socks5GssapiMessage> decoded = Socks5GssapiCodec.decode(view);
        if (decoded instanceof Decoded.Malformed<Socks5GssapiMessage> malformed) {
            return new Decoded.Malformed<>(malformed.reason(), malformed.fault());
        }
        if (!(decoded instanceof Decoded.Message<Socks5GssapiMessage> message)) {
            return new Decoded.NeedMore<>();
        }
        Socks5GssapiMessage received = message.message();
        if (received.type() == Socks5GssapiMessageType.ABORT) {
            return malformed("the peer aborted (RFC 1961 abort message)");
        }
        if (received.type() != Socks5GssapiMessageType.ENCAPSULATION) {
            return malformed("expected " + Socks5GssapiMessageType.ENCAPSULATION + ", got " + received.type());
        }
        GssapiContext.Unwrapped unwrapped;
        try {
            unwrapped = context.unwrapMessage(received.token());
        } catch (GssapiException e) {
            return malformed(e.getMessage());
        }
        if (confidential && !unwrapped.confidential()) {
            return malformed("a message without confidentiality, although " + level + " was agreed");
        }
        wire.position(view.position());
        return new Decoded.Message<>(ByteBuffer.wrap(unwrapped.message()));
    }

    private static Decoded<ByteBuffer> malformed(String reason) {
        return new Decoded.Malformed<>("SOCKS5 GSS-API encapsulated message: " + reason, ReplyStatus.GENERAL_FAILURE);
    }

    @Override
    public void dispose() {
        context.dispose();
    }

    @Override
    public String name() {
        return "gssapi-" + level.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return name() + " (" + context + ")";
    }
}
