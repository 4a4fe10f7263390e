package dev.chainsocks.testsupport;

import org.junit.jupiter.api.Assumptions;

/**
 * What a test needs from the machine (root, a program, IPv6 loopback). On a developer's machine a missing
 * prerequisite skips the test with a message; in CI ({@code CI=true}) it fails the test, so a broken CI machine
 * cannot pass by skipping.
 */
public final class Prerequisite {

    private Prerequisite() {
    }

    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Returns when {@code met}; otherwise skips the test or, under CI, fails it naming what is missing. */
    public static void require(boolean met, String whatIsMissing) {
        if (!met) {
            missing(whatIsMissing);
        }
    }

    /** Skips the test or, under CI, fails it; never returns normally. */
    public static RuntimeException missing(String whatIsMissing) {
        if (inCi()) {
            throw new AssertionError(whatIsMissing + " (CI=true: a missing prerequisite fails the test; .ci/run"
                    + " must provide it)");
        }
        Assumptions.abort(whatIsMissing + "; skipping (set CI=true to make this a failure)");
        throw new AssertionError("unreachable");
    }
}
