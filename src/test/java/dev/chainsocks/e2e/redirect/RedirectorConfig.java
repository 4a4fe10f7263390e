package dev.chainsocks.e2e.redirect;

import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A chainsocks TOML configuration written by a test: listeners, chains, timeouts, the service mark and the firewall
 * exemptions, in the format of {@code docs/configuration.md}. Values are quoted here, so a test names only what it
 * means.
 */
final class RedirectorConfig {

    /**
     * {@code [relay] mode} for every configuration the e2e tests write, when set ({@code splice} or {@code copy}), so
     * the suite can run in each relay mode: {@code mvn verify -Dchainsocks.e2e.relay=copy ...}.
     */
    static final String RELAY_MODE_PROPERTY = "chainsocks.e2e.relay";

    private final List<String> service = new ArrayList<>();
    private final List<String> timeouts = new ArrayList<>();
    private final List<String> listeners = new ArrayList<>();
    private final List<String> chains = new ArrayList<>();
    private List<String> exempt;

    /** {@code [service] mark}: SO_MARK on chainsocks' upstream sockets. */
    RedirectorConfig mark(int mark) {
        service.add("mark = 0x" + Integer.toHexString(mark));
        return this;
    }

    /** {@code [timeouts] KEY = "VALUE"}, e.g. {@code timeout("connect", "3s")}. */
    RedirectorConfig timeout(String key, String duration) {
        timeouts.add(key + " = " + quote(duration));
        return this;
    }

    /** A {@code strict} listener with one chain. */
    RedirectorConfig strictListener(String listen, String chain) {
        return listener(listen, "strict", null, chain);
    }

    /** A listener with {@code policy}, optional {@code failover-backoff} (null: default) and its chains. */
    RedirectorConfig listener(String listen, String policy, String failoverBackoff, String... chainNames) {
        StringBuilder toml = new StringBuilder("[[listener]]\n")
                .append("listen = ").append(quote(listen)).append('\n')
                .append("chains = ").append(array(List.of(chainNames))).append('\n')
                .append("policy = ").append(quote(policy)).append('\n');
        if (failoverBackoff != null) {
            toml.append("failover-backoff = ").append(quote(failoverBackoff)).append('\n');
        }
        listeners.add(toml.toString());
        return this;
    }

    /** {@code [chain.NAME] hops = [...]}, first hop first. */
    RedirectorConfig chain(String name, String... hops) {
        chains.add("[chain." + name + "]\nhops = " + array(List.of(hops)) + "\n");
        return this;
    }

    /** {@code [firewall] exempt}: replaces the default list (which would exempt the fd00:: test addresses). */
    RedirectorConfig exempt(String... networks) {
        exempt = List.of(networks);
        return this;
    }

    String toml() {
        StringBuilder toml = new StringBuilder("# written by an e2e test\n");
        if (!service.isEmpty()) {
            toml.append("[service]\n").append(String.join("\n", service)).append("\n\n");
        }
        if (!timeouts.isEmpty()) {
            toml.append("[timeouts]\n").append(String.join("\n", timeouts)).append("\n\n");
        }
        listeners.forEach(listener -> toml.append(listener).append('\n'));
        chains.forEach(chain -> toml.append(chain).append('\n'));
        if (exempt != null) {
            toml.append("[firewall]\nexempt = ").append(array(exempt)).append('\n');
        }
        String relayMode = System.getProperty(RELAY_MODE_PROPERTY);
        if (relayMode != null && !relayMode.isBlank()) {
            toml.append("[relay]\nmode = ").append(quote(relayMode)).append('\n');
        }
        return toml.toString();
    }

    /** Writes the file into a fresh directory of the workspace and returns its path. */
    Path writeTo(TestWorkspace workspace, String fileName) {
        return workspace.writeFile(workspace.newDirectory("config"), fileName, toml());
    }

    private static String array(List<String> values) {
        return values.stream().map(RedirectorConfig::quote).collect(Collectors.joining(", ", "[", "]"));
    }

    private static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
