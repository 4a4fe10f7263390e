package dev.chainsocks.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the TOML configuration loader. Any text is either a valid configuration or a
 * {@link ConfigException} whose every problem starts with the file name; a valid configuration rendered back to
 * TOML ({@code chainsocks check}'s output, passwords included) loads to an equal configuration. Seeds are under
 * {@code src/test/resources/dev/chainsocks/config/ConfigLoaderFuzzTestInputs/}.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class ConfigLoaderFuzzTest {

    static final Path SOURCE = Path.of("/etc/chainsocks/fuzz.toml");

    /** Input: the file's text as UTF-8 (invalid sequences become U+FFFD), no trailer. */
    @FuzzTest
    public void toml(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        ChainsocksConfig config;
        try {
            config = ConfigLoader.parse(text, SOURCE);
        } catch (ConfigException e) {
            if (e.problems().isEmpty()) {
                throw new AssertionError("a ConfigException without problems for:\n" + text, e);
            }
            for (String problem : e.problems()) {
                if (!problem.startsWith(SOURCE + ":") || problem.length() <= SOURCE.toString().length() + 2) {
                    throw new AssertionError("problem \"" + problem + "\" does not start with " + SOURCE
                            + ":, for:\n" + text, e);
                }
            }
            return;
        }
        String rendered = ConfigRenderer.render(config, true);
        ChainsocksConfig again;
        try {
            again = ConfigLoader.parse(rendered, SOURCE);
        } catch (ConfigException e) {
            throw new AssertionError("the configuration read from:\n" + text + "\nrenders as:\n" + rendered
                    + "\nwhich does not load", e);
        }
        if (!again.equals(config)) {
            throw new AssertionError("the configuration read from:\n" + text + "\nrenders as:\n" + rendered
                    + "\nwhich loads as " + again + "\ninstead of " + config);
        }
    }
}
