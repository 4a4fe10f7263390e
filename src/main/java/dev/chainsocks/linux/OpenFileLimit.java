package dev.chainsocks.linux;

import java.io.IOException;

/** Lets the process use as many file descriptors as it is allowed. Implemented by {@link LinuxSockets}. */
@FunctionalInterface
public interface OpenFileLimit {

    /** Raises the soft {@code RLIMIT_NOFILE} to the hard limit and says what it was and is now. */
    NoFileLimit raiseNoFileLimit() throws IOException;
}
