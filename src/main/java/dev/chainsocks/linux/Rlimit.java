package dev.chainsocks.linux;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code struct rlimit}; {@code RLIM_INFINITY} reads as -1. */
final class Rlimit extends Struct {
    final rlim_t soft = new rlim_t();
    final rlim_t hard = new rlim_t();

    Rlimit(Runtime runtime) {
        super(runtime);
    }
}
