package dev.chainsocks.linux;

import dev.chainsocks.linux.NativeAccess.LibC;
import jnr.ffi.Pointer;

/**
 * What a process does on a signal it inherited. A signal its parent ignored stays ignored across {@code exec}
 * ({@code nohup} ignores SIGHUP), and the JVM then will not install a handler for it: {@code Signal.handle} returns
 * {@code SIG_IGN} and the handler never runs. Putting the default action back first lets the JVM install it.
 */
public final class SignalDisposition {
    private SignalDisposition() {
    }

    /**
     * Sets SIGHUP to its default action (terminate), so that a handler installed right after is really installed.
     * Until then a SIGHUP would end the process; call this immediately before installing the handler.
     *
     * @throws ErrnoException                 when {@code signal(2)} fails
     * @throws UnsupportedOperationException when libc is not available (not Linux)
     */
    public static void restoreDefaultHangupAction() throws ErrnoException {
        LibC libc = NativeAccess.libc("changing the SIGHUP disposition needs Linux");
        Pointer previous = libc.signal(LibC.SIGHUP, null);
        if (previous != null && previous.address() == -1L) {
            throw NativeAccess.lastError("signal(SIGHUP, SIG_DFL)", null);
        }
    }
}
