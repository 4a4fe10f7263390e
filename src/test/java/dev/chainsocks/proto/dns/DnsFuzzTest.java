package dev.chainsocks.proto.dns;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.chainsocks.proto.Decoded;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the DNS message decoder, as the DNS server meets it in datagrams: it decodes, asks for more, or
 * refuses with a reason, never throws, never moves the buffer unless it decoded; a decoded message, written out
 * uncompressed, reads back as the same message. Inputs are capped at 2 KiB so that no compressed message can grow
 * past 64 KiB when written out. Seeds are under {@code src/test/resources/dev/chainsocks/proto/dns/DnsFuzzTestInputs/}.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class DnsFuzzTest {

    @FuzzTest
    public void message(byte[] input) {
        byte[] datagram = Arrays.copyOf(input, Math.min(input.length, 2048));
        ByteBuffer in = ByteBuffer.wrap(datagram);
        Decoded<DnsMessage> decoded = DnsCodec.decode(in);
        if (!(decoded instanceof Decoded.Message<DnsMessage> message)) {
            if (in.position() != 0) {
                throw new AssertionError("moved the buffer without decoding: " + decoded);
            }
            return;
        }
        ByteBuffer again = DnsCodec.encode(message.message());
        Decoded<DnsMessage> reread = DnsCodec.decode(again);
        if (!reread.equals(decoded) || again.hasRemaining()) {
            throw new AssertionError("round trip: " + decoded + " reads back as " + reread);
        }
    }
}
