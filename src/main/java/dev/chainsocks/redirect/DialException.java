package dev.chainsocks.redirect;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.proto.Destination;
import java.io.IOException;

/**
 * A chain could not be dialed. The message names the chain, which hop failed (1-based), what it was asked for
 * and why: {@code chain main: hop 2/3 socks5://198.18.2.2:1080 refused CONNECT 198.19.2.2:80: CONNECTION_REFUSED(0x05)}.
 */
public final class DialException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient ProxyChain chain;
    private final int hopNumber;
    private final boolean destinationRefused;

    public DialException(ProxyChain chain, int hopNumber, ProxyHop hop, Destination asked, String what,
            Throwable cause) {
        this(chain, hopNumber, hop, asked, what, cause, false);
    }

    DialException(ProxyChain chain, int hopNumber, ProxyHop hop, Destination asked, String what, Throwable cause,
            boolean destinationRefused) {
        super(describe(chain, hopNumber, hop, asked, what), cause);
        this.chain = chain;
        this.hopNumber = hopNumber;
        this.destinationRefused = destinationRefused;
    }

    private static String describe(ProxyChain chain, int hopNumber, ProxyHop hop, Destination asked, String what) {
        String where = hop == null
                ? "direct connection to " + asked
                : "hop " + hopNumber + "/" + chain.hops().size() + " " + hop;
        return "chain " + chain.name() + ": " + where + " " + what;
    }

    public ProxyChain chain() {
        return chain;
    }

    /**
     * Whether the chain itself worked and it is the destination that cannot be reached: the last hop answered
     * with a well-formed refusal (connection refused, host or network unreachable, timed out) for the destination.
     * Another chain would most likely get the same answer, and the chain should not be marked down for it.
     */
    public boolean destinationRefused() {
        return destinationRefused;
    }

    /** 1-based hop number that failed; 0 for the direct connection of an empty chain. */
    public int hopNumber() {
        return hopNumber;
    }
}
