package dev.chainsocks.proto;

import java.nio.ByteBuffer;

/**
 * The server side of one proxy handshake, as a state machine with no I/O: it parses what a client sends
 * (greeting, authentication, request) and produces the bytes to answer. It stops consuming after the request, so
 * bytes a client pipelined after it stay in the buffer for the relay.
 *
 * <p>Once {@link #outcome()} is a {@link ServerOutcome.Request}, the server does the work (connect, bind, ...) and
 * calls {@link #reply(ReplyStatus, Destination)}; for BIND it calls it twice (listening address, then peer).
 * When the outcome is {@link ServerOutcome.Rejected}, the answer is already in {@link #outbound()}: send it, then
 * close. A {@link ServerOutcome.NeedsIdentConfirmation} (SOCKS4 only) waits for the server's identd verdict.
 */
public interface ServerHandshake {

    void receive(ByteBuffer in);

    ByteBuffer outbound();

    /** Null while more bytes are needed. */
    ServerOutcome outcome();

    /**
     * Work the handshake now waits for that may block (a GSS-API call), handed out once; null when there is none.
     * The driver runs it off the loop, calls {@link BlockingStep#complete()} on the loop, then sends
     * {@link #outbound()} and asks again. Only SOCKS5 with GSS-API ever has one.
     */
    default BlockingStep<?> takeBlockingStep() {
        return null;
    }

    /**
     * Once {@link #outcome()} is a request: the per-message protection agreed with the client for everything after
     * the method negotiation (its replies are already protected by the handshake), with the plaintext the client
     * sent past its request; null when the stream travels as it is.
     */
    default ProtectedStream protectedStream() {
        return null;
    }

    /**
     * Encodes a reply to the parsed request into {@link #outbound()}. {@code bound} is the address to report
     * (for CONNECT the local address of the outgoing connection; for BIND the listening address, then the peer).
     */
    void reply(ReplyStatus status, Destination bound);
}
