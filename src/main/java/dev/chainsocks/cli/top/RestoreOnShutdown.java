package dev.chainsocks.cli.top;

import java.util.concurrent.atomic.AtomicReference;
import org.jline.utils.ShutdownHooks;

/**
 * Gives the terminal back when the JVM stops on a signal (SIGTERM, SIGHUP) while {@link FullScreen} runs.
 *
 * <p>JLine closes a system terminal from a shutdown task of its own, and a closed terminal writes nothing more: a
 * JVM shutdown hook of ours, which runs beside JLine's, could lose that race and leave the terminal on the alternate
 * screen. JLine runs its tasks one after another in the order they were added, so this task is added before the
 * terminal is built and runs first.
 */
public final class RestoreOnShutdown implements AutoCloseable {
    private final AtomicReference<Runnable> restore = new AtomicReference<>();
    private final ShutdownHooks.Task task;

    private RestoreOnShutdown() {
        task = ShutdownHooks.add(() -> {
            Runnable action = restore.get();
            if (action != null) {
                action.run();
            }
        });
    }

    /** Adds the task; call it before {@code TerminalBuilder.build()}. */
    public static RestoreOnShutdown register() {
        return new RestoreOnShutdown();
    }

    /** What the task does, from now on; null for nothing. */
    void set(Runnable action) {
        restore.set(action);
    }

    /** Removes the task: the terminal was given back by the normal path. */
    @Override
    public void close() {
        ShutdownHooks.remove(task);
    }
}
