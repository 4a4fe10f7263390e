package dev.chainsocks.linux;

import java.io.IOException;

/**
 * A libc call failed. The message names the call, the {@code strerror} text and the errno name, for example
 * {@code getsockopt(SO_ORIGINAL_DST): No such file or directory (ENOENT)}, sometimes followed by a hint about
 * what to do. Callers that need to react to a particular failure use {@link #errno()} or {@link #errnoName()},
 * never the message text.
 */
public final class ErrnoException extends IOException {
    /** Linux errno for "No such file or directory"; from SO_ORIGINAL_DST it means "not a NATed connection". */
    public static final int ENOENT = 2;
    /** Linux errno for "Operation not permitted". */
    public static final int EPERM = 1;
    /** Linux errno for "Invalid argument"; from {@code splice(2)}: this kind of file cannot be spliced. */
    public static final int EINVAL = 22;
    /** Linux errno for "Too many open files" (the process's limit). */
    public static final int EMFILE = 24;
    /** Linux errno for "Function not implemented". */
    public static final int ENOSYS = 38;

    private final String call;
    private final int errno;
    private final String errnoName;

    ErrnoException(String call, int errno, String errnoName, String description, String hint) {
        super(call + ": " + description + " (" + errnoName + ")" + (hint == null ? "" : "; " + hint));
        this.call = call;
        this.errno = errno;
        this.errnoName = errnoName;
    }

    /** The call that failed, with the option or resource it was about, e.g. {@code setsockopt(SO_MARK)}. */
    public String call() {
        return call;
    }

    /** The errno value the call left behind. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno name, e.g. {@code ENOENT}, or {@code errno 123} when the name is not known. */
    public String errnoName() {
        return errnoName;
    }
}
