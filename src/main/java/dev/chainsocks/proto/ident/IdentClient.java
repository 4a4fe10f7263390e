package dev.chainsocks.proto.ident;

import dev.chainsocks.proto.Decoded;
import dev.chainsocks.proto.OutboundBuffer;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The asking side of one RFC 1413 exchange, with no I/O: it has the query to send and reads one response line.
 * A response for another port pair than the one asked about is not an answer (a confused or lying identd).
 */
public final class IdentClient {

    /** What came back. */
    public sealed interface Outcome {
        /** A well-formed response for the query's port pair. */
        record Answered(IdentResponse response) implements Outcome {
        }

        /** A response that is not RFC 1413, or names another port pair. */
        record Unusable(String reason) implements Outcome {
        }
    }

    private final IdentQuery query;
    private final OutboundBuffer outbound = new OutboundBuffer();
    private Outcome outcome;

    public IdentClient(IdentQuery query) {
        this.query = Objects.requireNonNull(query, "query");
        outbound.append(IdentCodec.encodeQuery(query));
    }

    public IdentQuery query() {
        return query;
    }

    public ByteBuffer outbound() {
        return outbound.buffer();
    }

    public void receive(ByteBuffer in) {
        if (outcome != null) {
            return;
        }
        Decoded<IdentResponse> decoded = IdentCodec.decodeResponse(in);
        if (decoded instanceof Decoded.Malformed<IdentResponse> malformed) {
            outcome = new Outcome.Unusable(malformed.reason());
        } else if (decoded instanceof Decoded.Message<IdentResponse> message) {
            IdentResponse response = message.message();
            outcome = response.ports().equals(query) ? new Outcome.Answered(response)
                    : new Outcome.Unusable("identd answered for " + response.ports() + ", not for " + query);
        }
    }

    public boolean finished() {
        return outcome != null;
    }

    /** Null until a response line arrived. */
    public Outcome outcome() {
        return outcome;
    }
}
