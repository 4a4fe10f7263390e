package dev.chainsocks.proto.ident;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.chainsocks.fuzz.FuzzInput;
import dev.chainsocks.proto.WireProperties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz tests of the ident (RFC 1413) lines: whatever an identd, or a client of one, sends either decodes, waits for
 * more within {@link IdentCodec#MAX_LINE}, or is refused with a reason; the result does not depend on how the bytes
 * were cut into reads; a decoded line encodes back to one that decodes to the same thing. Seeds are under
 * {@code src/test/resources/dev/chainsocks/proto/ident/IdentFuzzTestInputs/}.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class IdentFuzzTest {

    /** Input: the query line's bytes, then the reads trailer (00: one read). */
    @FuzzTest
    public void query(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), IdentCodec.MAX_LINE + 2, IdentCodec::decodeQuery,
                IdentCodec::encodeQuery);
    }

    /** Input: the response line's bytes, then the reads trailer (00: one read). */
    @FuzzTest
    public void response(byte[] input) {
        WireProperties.decoder(FuzzInput.of(input).reads(), IdentCodec.MAX_LINE + 2, IdentCodec::decodeResponse,
                IdentCodec::encodeResponse);
    }
}
