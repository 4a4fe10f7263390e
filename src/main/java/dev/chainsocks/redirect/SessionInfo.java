package dev.chainsocks.redirect;

import java.net.InetSocketAddress;
import java.time.Duration;

/** A live session as {@code chainsocks connections} lists it. */
public record SessionInfo(long id, InetSocketAddress client, InetSocketAddress destination, String chain,
        SessionState state, long bytesUp, long bytesDown, Duration age) {
}
