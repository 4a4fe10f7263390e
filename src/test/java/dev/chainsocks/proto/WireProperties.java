package dev.chainsocks.proto;

import dev.chainsocks.fuzz.Reads;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What every decoder and handshake in {@code proto} promises, checked for arbitrary bytes (the fuzz tests' oracle).
 *
 * <ul>
 *   <li>No exception: every input ends as {@link Decoded.NeedMore}, {@link Decoded.Malformed} with a reason, a
 *       message, or a typed handshake outcome.
 *   <li>The {@link Decoded} contract on the buffer: untouched unless a message was decoded, then advanced by that
 *       message's length and no further.
 *   <li>Bounded buffering: once a message's cap has arrived, the answer is never "need more".
 *   <li>The same result however the bytes are cut into reads (whole, or cut where the fuzzer says).
 *   <li>Round trip: a decoded message encodes to bytes that decode to an equal message.
 *   <li>A handshake that got no new bytes changes nothing; one that ended consumes nothing more.
 * </ul>
 *
 * A broken promise is an {@link AssertionError} naming it; the fuzzer reports it as a finding.
 */
public final class WireProperties {

    private WireProperties() {
    }

    /**
     * Checks a stream decoder on {@code reads}; {@code maxMessageBytes} is the longest message it may wait for.
     * Returns the result of decoding the whole message at once.
     */
    public static <T> Decoded<T> decoder(Reads reads, int maxMessageBytes, Function<ByteBuffer, Decoded<T>> decoder,
            Function<T, ByteBuffer> encoder) {
        byte[] message = reads.message();
        ByteBuffer whole = ByteBuffer.wrap(message);
        Decoded<T> result = decodeOnce(whole, decoder, maxMessageBytes);
        int consumed = whole.position();
        if (result instanceof Decoded.NeedMore<T> && message.length >= maxMessageBytes) {
            throw broken("still needs more after " + message.length + " bytes, cap " + maxMessageBytes, reads);
        }

        Object[] streamed = {new Decoded.NeedMore<T>(), 0};
        reads.feed(buffer -> {
            if (streamed[0] instanceof Decoded.NeedMore<?>) {
                streamed[0] = decodeOnce(buffer, decoder, maxMessageBytes);
                streamed[1] = buffer.position();
            }
        });
        if (!streamed[0].equals(result) || (int) streamed[1] != consumed) {
            throw broken("cut into reads: " + streamed[0] + " consuming " + streamed[1] + " bytes, whole: " + result
                    + " consuming " + consumed, reads);
        }

        if (result instanceof Decoded.Message<T> decoded) {
            ByteBuffer encoded = encoder.apply(decoded.message());
            int length = encoded.remaining();
            Decoded<T> again = decodeOnce(encoded, decoder, Math.max(maxMessageBytes, length));
            if (!again.equals(result) || encoded.hasRemaining()) {
                throw broken("round trip: " + decoded.message() + " encodes to " + Hex.of(encoded.duplicate().rewind())
                        + ", which decodes to " + again + " leaving " + encoded.remaining() + " bytes", reads);
            }
        }
        return result;
    }

    /**
     * Checks a datagram decoder: a datagram is whole, so never "need more", and a decoded one is consumed entirely.
     */
    public static <T> Decoded<T> datagram(byte[] datagram, Function<ByteBuffer, Decoded<T>> decoder,
            Function<T, ByteBuffer> encoder) {
        Reads whole = Reads.of(datagram);
        ByteBuffer in = ByteBuffer.wrap(datagram);
        Decoded<T> result = decodeOnce(in, decoder, Integer.MAX_VALUE);
        if (result instanceof Decoded.NeedMore<T>) {
            throw broken("a datagram decoder answered need more", whole);
        }
        if (result instanceof Decoded.Message<T> decoded) {
            if (in.hasRemaining()) {
                throw broken("a decoded datagram left " + in.remaining() + " bytes", whole);
            }
            ByteBuffer encoded = encoder.apply(decoded.message());
            Decoded<T> again = decoder.apply(encoded);
            if (!again.equals(result) || encoded.hasRemaining()) {
                throw broken("round trip: " + decoded.message() + " decodes again to " + again, whole);
            }
        }
        return result;
    }

    private static <T> Decoded<T> decodeOnce(ByteBuffer in, Function<ByteBuffer, Decoded<T>> decoder, int max) {
        int position = in.position();
        int limit = in.limit();
        Decoded<T> result = decoder.apply(in);
        String problem = null;
        if (result == null || in.limit() != limit) {
            problem = "decoder returned " + result + " and moved the limit from " + limit + " to " + in.limit();
        } else if (!(result instanceof Decoded.Message<T>) && in.position() != position) {
            problem = result + " moved the position from " + position + " to " + in.position();
        } else if (result instanceof Decoded.Malformed<T> malformed
                && (malformed.reason().isBlank() || malformed.fault() == ReplyStatus.SUCCEEDED)) {
            problem = "malformed without a reason or with fault SUCCEEDED: " + malformed;
        } else if (result instanceof Decoded.Message<T> && (in.position() - position < 1
                || in.position() - position > max)) {
            problem = result + " consumed " + (in.position() - position) + " bytes, expected 1.." + max;
        }
        if (problem != null) {
            throw broken(problem, Reads.of(bytesOf(in.duplicate().limit(limit).position(position))));
        }
        return result;
    }

    /** A server handshake run on some bytes: the outcome, what it answered, and how many bytes it consumed. */
    public record ServerRun(ServerHandshake handshake, ServerOutcome outcome, byte[] answer, int consumed) {
    }

    /**
     * Checks a server handshake on a client's {@code reads}; while it has no outcome it may hold back at most
     * {@code maxPendingBytes} (a message not complete yet). Returns the run on the whole bytes at once, whose
     * handshake can still be replied to.
     */
    public static ServerRun server(Reads reads, int maxPendingBytes, Supplier<ServerHandshake> factory) {
        ServerHandshake whole = factory.get();
        if (whole.outcome() != null || whole.outbound().hasRemaining()) {
            throw broken("a new server handshake has an outcome or bytes to send", reads);
        }
        ByteBuffer in = ByteBuffer.wrap(reads.message());
        whole.receive(in);
        ServerOutcome outcome = whole.outcome();
        int consumed = in.position();
        byte[] answer = Hex.drain(whole.outbound());
        whole.receive(in);
        if (in.position() != consumed || !Objects.equals(whole.outcome(), outcome) || whole.outbound().hasRemaining()) {
            throw broken("receiving no new bytes changed the handshake: " + whole, reads);
        }
        if (outcome == null && in.remaining() >= maxPendingBytes) {
            throw broken("no outcome yet with " + in.remaining() + " bytes held back, cap " + maxPendingBytes, reads);
        }
        if (outcome instanceof ServerOutcome.Rejected rejected && (rejected.reason() == null
                || rejected.reason().isBlank())) {
            throw broken("rejected without a reason", reads);
        }

        ServerHandshake streamed = factory.get();
        ByteArrayOutputStream streamedAnswer = new ByteArrayOutputStream();
        ByteBuffer left = reads.feed(buffer -> {
            streamed.receive(buffer);
            streamedAnswer.writeBytes(Hex.drain(streamed.outbound()));
        });
        requireSameRun(reads, outcome, answer, consumed, streamed.outcome(), streamedAnswer.toByteArray(), left);

        if (!(outcome instanceof ServerOutcome.Request)) {
            try {
                whole.reply(ReplyStatus.SUCCEEDED, null);
                throw broken("reply accepted with outcome " + outcome, reads);
            } catch (IllegalStateException expected) {
                // Only a request can be replied to.
            }
        }
        return new ServerRun(whole, outcome, answer, consumed);
    }

    /** A client handshake run on a proxy's bytes: the outcome, what it sent in all, and the bytes it consumed. */
    public record ClientRun(HandshakeOutcome outcome, byte[] sent, int consumed) {
    }

    /** Checks a client handshake on a proxy's {@code reads}, like {@link #server}. */
    public static ClientRun client(Reads reads, int maxPendingBytes, Supplier<ClientHandshake> factory) {
        ClientHandshake whole = factory.get();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        sent.writeBytes(Hex.drain(whole.outbound()));
        if (sent.size() == 0 || whole.outcome() != null) {
            throw broken("a new client handshake has nothing to send, or an outcome already", reads);
        }
        ByteBuffer in = ByteBuffer.wrap(reads.message());
        whole.receive(in);
        HandshakeOutcome outcome = whole.outcome();
        int consumed = in.position();
        sent.writeBytes(Hex.drain(whole.outbound()));
        whole.receive(in);
        if (in.position() != consumed || !Objects.equals(whole.outcome(), outcome) || whole.outbound().hasRemaining()) {
            throw broken("receiving no new bytes changed the handshake: " + whole, reads);
        }
        if (outcome == null && in.remaining() >= maxPendingBytes) {
            throw broken("no outcome yet with " + in.remaining() + " bytes held back, cap " + maxPendingBytes, reads);
        }
        if (!explained(outcome)) {
            throw broken("outcome without an explanation: " + outcome, reads);
        }

        ClientHandshake streamed = factory.get();
        ByteArrayOutputStream streamedSent = new ByteArrayOutputStream();
        streamedSent.writeBytes(Hex.drain(streamed.outbound()));
        ByteBuffer left = reads.feed(buffer -> {
            streamed.receive(buffer);
            streamedSent.writeBytes(Hex.drain(streamed.outbound()));
        });
        requireSameRun(reads, outcome, sent.toByteArray(), consumed, streamed.outcome(), streamedSent.toByteArray(),
                left);
        return new ClientRun(outcome, sent.toByteArray(), consumed);
    }

    private static boolean explained(HandshakeOutcome outcome) {
        if (outcome instanceof HandshakeOutcome.Granted granted) {
            return granted.bound() != null;
        }
        if (outcome instanceof HandshakeOutcome.Refused refused) {
            return refused.status() != ReplyStatus.SUCCEEDED && !refused.code().isBlank();
        }
        if (outcome instanceof HandshakeOutcome.ProtocolError error) {
            return error.reason() != null && !error.reason().isBlank();
        }
        if (outcome instanceof HandshakeOutcome.AuthenticationFailed failed) {
            return failed.reason() != null && !failed.reason().isBlank();
        }
        return outcome == null;
    }

    private static void requireSameRun(Reads reads, Object outcome, byte[] sent, int consumed, Object streamedOutcome,
            byte[] streamedSent, ByteBuffer left) {
        byte[] expectedLeft = Arrays.copyOfRange(reads.message(), consumed, reads.message().length);
        if (!Objects.equals(streamedOutcome, outcome) || !Arrays.equals(streamedSent, sent)
                || !Arrays.equals(bytesOf(left), expectedLeft)) {
            throw broken("cut into reads: " + streamedOutcome + ", sent " + Hex.of(streamedSent) + ", left "
                    + left.remaining() + " bytes; whole: " + outcome + ", sent " + Hex.of(sent) + ", left "
                    + expectedLeft.length + " bytes", reads);
        }
    }

    /**
     * Runs a client handshake against a server handshake in memory, the server answering a request with SUCCEEDED
     * and {@code bound}, until the client has an outcome (at most 8 exchanges). Returns the server's outcome.
     */
    public static ServerOutcome converse(ClientHandshake client, ServerHandshake server, Destination bound) {
        ByteBuffer toServer = ByteBuffer.allocate(1 << 16);
        ByteBuffer toClient = ByteBuffer.allocate(1 << 16);
        for (int round = 0; round < 8 && client.outcome() == null; round++) {
            toServer.put(client.outbound()).flip();
            boolean pending = server.outcome() == null;
            server.receive(toServer);
            toServer.compact();
            if (pending && server.outcome() instanceof ServerOutcome.Request) {
                server.reply(ReplyStatus.SUCCEEDED, bound);
            }
            toClient.put(server.outbound()).flip();
            client.receive(toClient);
            toClient.compact();
        }
        if (client.outcome() == null || toServer.position() != 0) {
            throw new AssertionError("client " + client + " against " + server + " did not finish: client "
                    + client.outcome() + ", " + toServer.position() + " bytes not taken by the server");
        }
        return server.outcome();
    }

    private static byte[] bytesOf(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    /** An AssertionError naming the broken property and the input that broke it. */
    public static AssertionError broken(String property, Reads reads) {
        String input = reads.message().length <= 512
                ? Hex.of(reads.message())
                : Hex.of(Arrays.copyOf(reads.message(), 512)) + " ...";
        return new AssertionError(property + "\n  input (" + reads + "): " + input);
    }
}
