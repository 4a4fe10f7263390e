package dev.chainsocks.control;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the control socket is. A path set with {@code --control-socket PATH} or {@code service.control-socket}
 * always wins; otherwise the default follows where this process may write:
 *
 * <ol>
 *   <li>{@code $RUNTIME_DIRECTORY/control.sock}: the directory systemd creates for the unit's
 *       {@code RuntimeDirectory=} (the first one, when the variable lists several separated by ':');</li>
 *   <li>{@code /run/chainsocks/control.sock} when the effective user is root;</li>
 *   <li>{@code $XDG_RUNTIME_DIR/chainsocks/control.sock} for another user with a login session;</li>
 *   <li>none: the service runs without a control socket and says how to get one.</li>
 * </ol>
 *
 * <p>{@code chainsocks run} and the client commands ({@code status}, {@code connections}, {@code reload}) both ask
 * this class, so a client started in the same environment as the service finds its socket. Under the packaged unit
 * ({@code RuntimeDirectory=chainsocks}) the service's default is {@code /run/chainsocks/control.sock}, which is also
 * what root's client uses.
 *
 * <pre>{@code
 * ControlSocketLocation location = ControlSocketLocation.forThisProcess(Optional.empty());
 * location.socket().ifPresent(path -> ControlServer.start(path, handler));
 * }</pre>
 *
 * @param rule   which rule chose the socket
 * @param socket the socket's path; empty only for {@link Rule#NONE}
 */
public record ControlSocketLocation(Rule rule, Optional<Path> socket) {

    /** The default for root, and what the packaged systemd unit's {@code RuntimeDirectory=chainsocks} gives. */
    public static final Path ROOT_DEFAULT = Path.of("/run/chainsocks/control.sock");
    /** The socket's file name inside {@code $RUNTIME_DIRECTORY} and {@code $XDG_RUNTIME_DIR/chainsocks}. */
    public static final String FILE_NAME = "control.sock";
    /** How a user names a socket, for messages. */
    public static final String HOW_TO_SET = "--control-socket PATH or service.control-socket";

    /** The rules, in the order they are tried. */
    public enum Rule {
        /** {@code --control-socket PATH} or {@code service.control-socket}. */
        EXPLICIT("as configured"),
        /** systemd's {@code RuntimeDirectory=}. */
        RUNTIME_DIRECTORY("in $RUNTIME_DIRECTORY"),
        /** The effective user is root. */
        ROOT("root's default"),
        /** Another user's {@code $XDG_RUNTIME_DIR}. */
        XDG_RUNTIME_DIR("in $XDG_RUNTIME_DIR"),
        /** Nothing applies: no control socket. */
        NONE("none");

        private final String description;

        Rule(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /** Checks that a socket is present exactly when the rule chose one. */
    public ControlSocketLocation {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(socket, "socket");
        if (socket.isPresent() == (rule == Rule.NONE)) {
            throw new IllegalArgumentException(rule + " with socket " + socket);
        }
    }

    /** The location for this process: its environment variables and its effective user. */
    public static ControlSocketLocation forThisProcess(Optional<Path> explicit) {
        return resolve(explicit, System.getenv(), effectiveUserIsRoot());
    }

    /**
     * Applies the rules.
     *
     * @param explicit    the path from the command line or the configuration, if any
     * @param environment the process environment ({@code RUNTIME_DIRECTORY}, {@code XDG_RUNTIME_DIR})
     * @param root        whether the effective user id is 0
     */
    public static ControlSocketLocation resolve(Optional<Path> explicit, Map<String, String> environment,
                                                boolean root) {
        if (explicit.isPresent()) {
            return new ControlSocketLocation(Rule.EXPLICIT, explicit);
        }
        Optional<Path> runtimeDirectory = absoluteDirectory(firstEntry(environment.get("RUNTIME_DIRECTORY")));
        if (runtimeDirectory.isPresent()) {
            return new ControlSocketLocation(Rule.RUNTIME_DIRECTORY,
                    Optional.of(runtimeDirectory.get().resolve(FILE_NAME)));
        }
        if (root) {
            return new ControlSocketLocation(Rule.ROOT, Optional.of(ROOT_DEFAULT));
        }
        Optional<Path> xdg = absoluteDirectory(environment.get("XDG_RUNTIME_DIR"));
        if (xdg.isPresent()) {
            return new ControlSocketLocation(Rule.XDG_RUNTIME_DIR,
                    Optional.of(xdg.get().resolve("chainsocks").resolve(FILE_NAME)));
        }
        return new ControlSocketLocation(Rule.NONE, Optional.empty());
    }

    /**
     * Whether the socket's directory is one chainsocks makes when it is missing: {@code /run/chainsocks} for root
     * and {@code $XDG_RUNTIME_DIR/chainsocks}. A configured directory, and systemd's, must exist already.
     */
    public boolean createsDirectory() {
        return rule == Rule.ROOT || rule == Rule.XDG_RUNTIME_DIR;
    }

    /** Why there is no default, and what to do, for {@link Rule#NONE}; a description of the choice otherwise. */
    public String describe() {
        if (socket.isEmpty()) {
            return "no control socket: not root, and neither $RUNTIME_DIRECTORY nor $XDG_RUNTIME_DIR is set; give "
                    + HOW_TO_SET;
        }
        return socket.get() + " (" + rule + ")";
    }

    private static String firstEntry(String list) {
        if (list == null) {
            return null;
        }
        int colon = list.indexOf(':');
        return colon < 0 ? list : list.substring(0, colon);
    }

    private static Optional<Path> absoluteDirectory(String value) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        try {
            Path path = Path.of(value);
            return path.isAbsolute() ? Optional.of(path) : Optional.empty();
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether the effective user id is 0, from the second field of {@code Uid:} in {@code /proc/self/status}
     * (real, effective, saved, filesystem). Where that file cannot be read (not Linux), the user name decides.
     */
    static boolean effectiveUserIsRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] ids = line.substring("Uid:".length()).trim().split("\\s+");
                    return ids.length > 1 && ids[1].equals("0");
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            // fall through to the user name
        }
        return "root".equals(System.getProperty("user.name"));
    }
}
