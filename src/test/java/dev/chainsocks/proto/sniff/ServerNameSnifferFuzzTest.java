package dev.chainsocks.proto.sniff;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the SNI and Host sniffer: whatever a client sends first, it answers without throwing and without
 * moving the buffer, and once a prefix shows a name, the whole input shows the same name (more bytes never change
 * an answer already given). Seeds are under
 * {@code src/test/resources/dev/chainsocks/proto/sniff/ServerNameSnifferFuzzTestInputs/}.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class ServerNameSnifferFuzzTest {

    @FuzzTest
    public void sniff(byte[] input) {
        ByteBuffer whole = ByteBuffer.wrap(input);
        ServerNameSniffer.Sniffed all = ServerNameSniffer.sniff(whole);
        if (whole.position() != 0) {
            throw new AssertionError("moved the buffer");
        }
        int half = input.length / 2;
        ServerNameSniffer.Sniffed prefix = ServerNameSniffer.sniff(ByteBuffer.wrap(input, 0, half));
        if (!(prefix instanceof ServerNameSniffer.Sniffed.NeedMore) && !prefix.equals(all)
                && half < ServerNameSniffer.MAX_BYTES) {
            throw new AssertionError("the first " + half + " bytes say " + prefix + " but all say " + all);
        }
    }
}
