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

    /** Whose failure it was: what decides whether the chain is marked down and which counter counts it. */
    public enum Blame {
        /** A proxy of the chain failed, refused or could not be reached: the chain is marked down. */
        CHAIN,
        /**
         * The chain worked and its last hop gave a well-formed refusal for the destination (connection refused,
         * host or network unreachable, timed out). Another chain would most likely get the same answer, and the
         * chain is not marked down for it (one program trying a closed port would take it out of service).
         */
        DESTINATION,
        /**
         * This host could not make a socket (out of file descriptors, no local port): nothing was learned about
         * the chain, and it is not marked down.
         */
        LOCAL
    }

    private final transient ProxyChain chain;
    private final int hopNumber;
    private final Blame blame;

    public DialException(ProxyChain chain, int hopNumber, ProxyHop hop, Destination asked, String what,
            Throwable cause) {
        this(chain, hopNumber, hop, asked, what, cause, Blame.CHAIN);
    }

    DialException(ProxyChain chain, int hopNumber, ProxyHop hop, Destination asked, String what, Throwable cause,
            Blame blame) {
        super(describe(chain, hopNumber, hop, asked, what), cause);
        this.chain = chain;
        this.hopNumber = hopNumber;
        this.blame = blame;
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

    public Blame blame() {
        return blame;
    }

    /** 1-based hop number that failed; 0 for the direct connection of an empty chain. */
    public int hopNumber() {
        return hopNumber;
    }
}
