package dev.chainsocks.linux;

/**
 * The open-files limit ({@code RLIMIT_NOFILE}) before and after raising it. A value of -1 means unlimited.
 *
 * @param previousSoft the soft limit found at startup
 * @param soft         the soft limit now
 * @param hard         the hard limit, the ceiling for the soft one
 */
public record NoFileLimit(long previousSoft, long soft, long hard) {

    /** Whether the soft limit changed. */
    public boolean raised() {
        return previousSoft != soft;
    }

    /** Reads like {@code open files limit raised from 1024 to 524288 (hard limit 524288)}. */
    @Override
    public String toString() {
        if (raised()) {
            return "open files limit raised from " + format(previousSoft) + " to " + format(soft)
                    + " (hard limit " + format(hard) + ")";
        }
        return "open files limit " + format(soft) + " (already at the hard limit " + format(hard) + ")";
    }

    private static String format(long limit) {
        return limit == -1 ? "unlimited" : Long.toUnsignedString(limit);
    }
}
