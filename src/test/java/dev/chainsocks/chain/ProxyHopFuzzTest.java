package dev.chainsocks.chain;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the hop URI parser. Any text either parses, or is refused with an {@link IllegalArgumentException}
 * that says what is wrong; a parsed hop written back as a URI parses to the same hop, and its display form hides
 * the password. Seeds are under {@code src/test/resources/dev/chainsocks/chain/ProxyHopFuzzTestInputs/}.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class ProxyHopFuzzTest {

    /** Input: the URI as UTF-8 (invalid sequences become U+FFFD), no trailer. */
    @FuzzTest
    public void uri(byte[] input) {
        String uri = new String(input, StandardCharsets.UTF_8);
        ProxyHop hop;
        try {
            hop = ProxyHop.parse(uri);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("refused without a reason: \"" + uri + "\"", e);
            }
            return;
        }
        String written = hop.uri(true);
        ProxyHop again;
        try {
            again = ProxyHop.parse(written);
        } catch (IllegalArgumentException e) {
            throw new AssertionError("\"" + uri + "\" parsed to " + hop + ", written back as \"" + written
                    + "\", which is refused", e);
        }
        if (!again.equals(hop)) {
            throw new AssertionError("\"" + uri + "\" parsed to " + hop + ", written back as \"" + written
                    + "\", which parses to " + again);
        }
        String shown = hop.toString();
        if (!shown.equals(hop.uri(false)) || hop.password().isPresent() && !shown.contains(":***@")) {
            throw new AssertionError("\"" + uri + "\" is shown as \"" + shown + "\"");
        }
    }
}
