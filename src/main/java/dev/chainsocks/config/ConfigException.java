package dev.chainsocks.config;

import java.util.List;

/**
 * A configuration that cannot be used. The message has one line per problem, each starting with where it is:
 * {@code /etc/chainsocks/chainsocks.toml:14: [chain.main] hops[1]: unknown scheme "sock5" in "sock5://h:1" (use
 * socks4, socks4a, socks5, socks5h, socks5+gssapi or http)}. Passwords never appear.
 */
public final class ConfigException extends Exception {

    private final List<String> problems;

    /** One exception for all the problems found, in file order. */
    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** A single problem, with its cause (such as an I/O error). */
    public ConfigException(String problem, Throwable cause) {
        super(problem, cause);
        this.problems = List.of(problem);
    }

    /** Every problem, one line each. */
    public List<String> problems() {
        return problems;
    }
}
