package dev.chainsocks.linux;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code struct msghdr} of {@code recvmsg(2)}; JNR lays it out for this platform's pointer size. */
final class Msghdr extends Struct {
    final Pointer name = new Pointer();
    final Unsigned32 nameLength = new Unsigned32();
    final Pointer iov = new Pointer();
    final size_t iovLength = new size_t();
    final Pointer control = new Pointer();
    final size_t controlLength = new size_t();
    final Signed32 flags = new Signed32();

    Msghdr(Runtime runtime) {
        super(runtime);
    }
}
