package dev.chainsocks.linux;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code struct timespec}. */
final class Timespec extends Struct {
    final time_t seconds = new time_t();
    final SignedLong nanoseconds = new SignedLong();

    Timespec(Runtime runtime) {
        super(runtime);
    }
}
