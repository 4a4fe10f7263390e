package dev.chainsocks.proto;

import java.util.Objects;

/**
 * The result of trying to decode one message from a buffer that may hold only part of it.
 *
 * <p>Decoders in this package family keep one rule: {@link NeedMore} and {@link Malformed} leave the buffer's
 * position where it was; {@link Message} advances it by exactly the bytes of the message, so whatever follows
 * (the next message, or early data for the relay) stays in the buffer. A decoder checks each field as soon as it
 * has arrived and caps every variable-length field, so garbage is reported as {@link Malformed} after a bounded
 * number of bytes instead of being buffered while waiting for more.
 */
public sealed interface Decoded<T> {

    /** The buffer ends before the message does; nothing was consumed. */
    record NeedMore<T>() implements Decoded<T> {
        @Override
        public String toString() {
            return "need more bytes";
        }
    }

    /** A whole, valid message; its bytes were consumed. */
    record Message<T>(T message) implements Decoded<T> {
        public Message {
            Objects.requireNonNull(message, "message");
        }

        @Override
        public String toString() {
            return String.valueOf(message);
        }
    }

    /**
     * The bytes are not this protocol. {@code reason} names the message, the field and the offending byte in hex
     * ("SOCKS5 request: unknown address type 0x07"); {@code fault} is the reply a server should answer with
     * (usually {@link ReplyStatus#GENERAL_FAILURE}; SOCKS5 distinguishes an unknown command or address type).
     */
    record Malformed<T>(String reason, ReplyStatus fault) implements Decoded<T> {
        public Malformed {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(fault, "fault");
        }

        @Override
        public String toString() {
            return "malformed: " + reason;
        }
    }
}
