package dev.chainsocks.engine;

import dev.chainsocks.log.Logging;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Child JVM for {@link FatalErrorTest}: a task on an event loop allocates direct buffers and keeps them, under a
 * small {@code -XX:MaxDirectMemorySize}, until the JDK throws {@code OutOfMemoryError: Cannot reserve ... direct
 * buffer memory}, as thousands of stalled readers once made the relay do (its pool now stays within a budget; see
 * {@link StalledReaders}). Whatever throws an {@code Error} on a loop, the process must end.
 */
final class LoopOutOfMemory {

    private LoopOutOfMemory() {
    }

    public static void main(String[] args) throws Exception {
        Logging.configure("info", false);
        EventLoopGroup group = new EventLoopGroup("child", 1);
        EventLoop loop = group.loops().get(0);
        List<ByteBuffer> held = new ArrayList<>();
        loop.execute(() -> {
            for (int i = 0; i < 1_000_000; i++) {
                held.add(ByteBuffer.allocateDirect(64 * 1024));
            }
        });
        Thread.sleep(30_000);
        System.out.println("still running after 30 s with " + held.size() + " buffers");
        System.exit(0);
    }
}
