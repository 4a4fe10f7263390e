package dev.chainsocks.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.control.ControlSocketLocation.Rule;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ControlSocketLocationTest {

    private static final String NONE = null;

    /** explicit path, RUNTIME_DIRECTORY, XDG_RUNTIME_DIR, root?, expected rule, expected socket. */
    static Stream<Arguments> environments() {
        return Stream.of(
                // An explicit path wins over every environment.
                row("/srv/cs.sock", "/run/chainsocks", "/run/user/1000", true, Rule.EXPLICIT, "/srv/cs.sock"),
                row("/srv/cs.sock", NONE, NONE, false, Rule.EXPLICIT, "/srv/cs.sock"),
                // systemd's RuntimeDirectory=, for the service user and for root alike; the first of several.
                row(NONE, "/run/chainsocks", NONE, false, Rule.RUNTIME_DIRECTORY, "/run/chainsocks/control.sock"),
                row(NONE, "/run/chainsocks:/run/chainsocks/jffi", "/run/user/998", false, Rule.RUNTIME_DIRECTORY,
                        "/run/chainsocks/control.sock"),
                row(NONE, "/run/other", NONE, true, Rule.RUNTIME_DIRECTORY, "/run/other/control.sock"),
                // A RUNTIME_DIRECTORY that is empty or not absolute is not systemd's: the next rule decides.
                row(NONE, "", NONE, true, Rule.ROOT, "/run/chainsocks/control.sock"),
                row(NONE, ":/run/chainsocks", NONE, true, Rule.ROOT, "/run/chainsocks/control.sock"),
                row(NONE, "relative/dir", "/run/user/1000", false, Rule.XDG_RUNTIME_DIR,
                        "/run/user/1000/chainsocks/control.sock"),
                // Root without systemd: /run/chainsocks, even with an XDG_RUNTIME_DIR (sudo may pass it on).
                row(NONE, NONE, NONE, true, Rule.ROOT, "/run/chainsocks/control.sock"),
                row(NONE, NONE, "/run/user/1000", true, Rule.ROOT, "/run/chainsocks/control.sock"),
                // Another user: never /run/chainsocks, which it cannot write.
                row(NONE, NONE, "/run/user/1000", false, Rule.XDG_RUNTIME_DIR,
                        "/run/user/1000/chainsocks/control.sock"),
                row(NONE, NONE, "  ", false, Rule.NONE, NONE),
                row(NONE, NONE, "tmp/xdg", false, Rule.NONE, NONE),
                row(NONE, NONE, NONE, false, Rule.NONE, NONE));
    }

    private static Arguments row(String explicit, String runtimeDirectory, String xdgRuntimeDir, boolean root,
                                 Rule rule, String socket) {
        return Arguments.of(explicit, runtimeDirectory, xdgRuntimeDir, root, rule, socket);
    }

    @ParameterizedTest(name = "explicit={0} RUNTIME_DIRECTORY={1} XDG_RUNTIME_DIR={2} root={3} -> {4} {5}")
    @MethodSource("environments")
    void rulesInOrder(String explicit, String runtimeDirectory, String xdgRuntimeDir, boolean root, Rule rule,
                      String socket) {
        Map<String, String> environment = new HashMap<>(Map.of("HOME", "/home/someone", "PATH", "/usr/bin"));
        if (runtimeDirectory != null) {
            environment.put("RUNTIME_DIRECTORY", runtimeDirectory);
        }
        if (xdgRuntimeDir != null) {
            environment.put("XDG_RUNTIME_DIR", xdgRuntimeDir);
        }
        ControlSocketLocation location = ControlSocketLocation.resolve(
                Optional.ofNullable(explicit).map(Path::of), environment, root);

        assertThat(location.rule()).isEqualTo(rule);
        assertThat(location.socket()).isEqualTo(Optional.ofNullable(socket).map(Path::of));
        assertThat(location.createsDirectory()).isEqualTo(rule == Rule.ROOT || rule == Rule.XDG_RUNTIME_DIR);
    }

    @Test
    void withoutADefaultTheDescriptionSaysHowToGetOne() {
        ControlSocketLocation none = ControlSocketLocation.resolve(Optional.empty(), Map.of(), false);
        assertThat(none.describe()).isEqualTo("no control socket: not root, and neither $RUNTIME_DIRECTORY nor "
                + "$XDG_RUNTIME_DIR is set; give --control-socket PATH or service.control-socket");
        assertThat(ControlSocketLocation.resolve(Optional.empty(), Map.of(), true).describe())
                .isEqualTo("/run/chainsocks/control.sock (root's default)");
    }

    @Test
    void effectiveUserMatchesTheOwnerOfThisProcess() throws Exception {
        // /proc/self belongs to the effective user: an independent reading of the same fact.
        int owner = (Integer) java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        assertThat(ControlSocketLocation.effectiveUserIsRoot()).isEqualTo(owner == 0);
    }
}
