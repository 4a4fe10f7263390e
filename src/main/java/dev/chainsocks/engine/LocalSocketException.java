package dev.chainsocks.engine;

import java.io.IOException;

/**
 * A socket of our own could not be created or prepared: out of file descriptors, no local port left, a socket
 * option the process may not set. The failure is this host's, not the peer's: a proxy must not be marked down
 * for it. The message is the cause's.
 */
public final class LocalSocketException extends IOException {

    private static final long serialVersionUID = 1L;

    public LocalSocketException(IOException cause) {
        super(cause.getMessage(), cause);
    }
}
