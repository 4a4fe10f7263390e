package dev.chainsocks.linux;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code struct iovec}: one buffer of a scatter/gather call. */
final class Iovec extends Struct {
    final Pointer base = new Pointer();
    final size_t length = new size_t();

    Iovec(Runtime runtime) {
        super(runtime);
    }
}
