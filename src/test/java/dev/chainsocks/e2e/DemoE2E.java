package dev.chainsocks.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The README's "see it work" command: {@code chainsocks demo} runs, succeeds and leaves nothing behind. */
@Tag("e2e")
class DemoE2E {

    @Test
    void demoCarriesAPageThroughTwoHopsAndCleansUp() {
        Prerequisites.require("iptables");
        String jar = Prerequisites.chainsocksJar().toString();
        List<String> before = namespaces();
        Command.Result result = Command.run(List.of("java", "-jar", jar, "demo"), Duration.ofSeconds(90));
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout())
                .contains("You reached me from 198.19.2.2 (the last hop)")
                .containsPattern("session 1 end client=198\\.18\\.1\\.2:\\d+ dst=198\\.19\\.2\\.2:80 via=cli\\[socks5://"
                        + "198\\.19\\.2\\.2:1080 -> socks4a://198\\.19\\.2\\.2:1081\\] .*outcome=ok")
                .contains("hop 1:").contains("hop 2:");
        assertThat(namespaces()).as("namespaces after the demo").isEqualTo(before);
    }

    private static List<String> namespaces() {
        return Command.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10)).stdout().lines()
                .filter(line -> line.startsWith("chainsocks-demo-")).toList();
    }
}
