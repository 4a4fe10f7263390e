package dev.chainsocks.log;

import dev.chainsocks.proto.Destination;
import dev.chainsocks.syntax.AddressSyntax;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.tinylog.Level;
import org.tinylog.Logger;
import org.tinylog.TaggedLogger;
import org.tinylog.provider.ProviderRegistry;

/**
 * One line when a session starts and one when it ends, with the same session id so the two can be joined:
 * <pre>
 * session 12 start client=198.18.1.2:50412 dst=198.19.2.2:80 via=main[socks5://198.19.2.3:1080]
 * session 12 end client=198.18.1.2:50412 dst=198.19.2.2:80 via=main[socks5://198.19.2.3:1080] up=75B down=612B elapsed=0.042s outcome=ok
 * </pre>
 * Lines go to the {@code access} tag at info level. A connection refused before its request gets one
 * {@code session 13 refused client=... reason=...} line instead, rate-limited per {@link RefusalKind}.
 */
public final class AccessLog {

    /** Refused lines of one kind written per {@link #REFUSED_WINDOW}; the rest are counted in a summary line. */
    public static final int REFUSED_PER_WINDOW = 10;
    public static final Duration REFUSED_WINDOW = Duration.ofSeconds(1);

    private static final TaggedLogger LOG = Logger.tag("access");
    /**
     * Whether start and end lines are written. Read once: tinylog's {@code isInfoEnabled()} walks the caller's
     * stack on every call to look for a per-class level, which chainsocks never sets.
     */
    private static final boolean WRITTEN = ProviderRegistry.getLoggingProvider().getMinimumLevel("access")
            .ordinal() <= Level.INFO.ordinal();
    private static final AtomicLong IDS = new AtomicLong();
    private static final RefusedLineLimiter REFUSED = new RefusedLineLimiter(REFUSED_PER_WINDOW, REFUSED_WINDOW,
            System::nanoTime, RefusedLineLimiter.Scheduler.JDK, line -> LOG.info("{}", line));

    private AccessLog() {
    }

    public static long nextSessionId() {
        return IDS.incrementAndGet();
    }

    /**
     * @param destination where the client is going, as asked for or as the kernel said
     * @param via         the chain ({@code main[socks5://...]}) or the bundled server's protocol and command
     */
    public static void start(long id, InetSocketAddress client, Destination destination, String via) {
        if (WRITTEN) {
            LOG.info(new StringBuilder(160).append("session ").append(id).append(" start client=")
                    .append(AddressSyntax.format(client)).append(" dst=").append(destination).append(" via=")
                    .append(via).toString());
        }
    }

    /** The end line; {@code destination} may be null when the session never learned it ({@code dst=-}). */
    public static void end(long id, InetSocketAddress client, Destination destination, String via, long bytesUp,
            long bytesDown, Duration elapsed, String outcome) {
        if (WRITTEN) {
            LOG.info(new StringBuilder(240).append("session ").append(id).append(" end client=")
                    .append(AddressSyntax.format(client)).append(" dst=").append(destination == null ? "-" : destination)
                    .append(" via=").append(via).append(" up=").append(bytesUp).append("B down=").append(bytesDown)
                    .append("B elapsed=").append(seconds(elapsed)).append(" outcome=").append(outcome).toString());
        }
    }

    /**
     * The single line for a connection that ended before it asked for anything (no original destination, the loop
     * guard, bad protocol, auth failure). Anyone who can reach a port can cause these, so at most
     * {@link #REFUSED_PER_WINDOW} of each kind are written per {@link #REFUSED_WINDOW}; one line at the end of the
     * window counts the rest. Start and end lines are never limited.
     */
    public static void refused(long id, InetSocketAddress client, RefusalKind kind, String reason) {
        REFUSED.log(kind, () -> "session " + id + " refused client=" + AddressSyntax.format(client) + " reason=" + reason);
    }

    /** {@code 0.042s}: seconds with three decimals, rounded half up (negative durations read as zero). */
    static String seconds(Duration elapsed) {
        long millis = Math.max(0, (elapsed.toNanos() + 500_000) / 1_000_000);
        long fraction = millis % 1000;
        return (millis / 1000) + (fraction < 10 ? ".00" : fraction < 100 ? ".0" : ".") + fraction + "s";
    }

}
