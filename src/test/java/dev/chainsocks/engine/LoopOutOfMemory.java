package dev.chainsocks.engine;

import dev.chainsocks.log.Logging;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Child JVM for {@link FatalErrorTest}: an event loop that takes relay buffers from its pool and never gives them
 * back, under a small {@code -XX:MaxDirectMemorySize}, until the JDK throws {@code OutOfMemoryError: Cannot
 * reserve ... direct buffer memory}, as thousands of stalled readers once made it do. The process must end.
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
                held.add(loop.buffers().take());
            }
        });
        Thread.sleep(30_000);
        System.out.println("still running after 30 s with " + held.size() + " buffers");
        System.exit(0);
    }
}
