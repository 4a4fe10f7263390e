package dev.chainsocks.engine;

import java.io.IOException;
import java.nio.channels.SelectionKey;

/** What a selection key's attachment does when its channel is ready. Always called on the key's loop thread. */
public interface IoHandler {

    void ready(SelectionKey key) throws IOException;

    /** Called instead of more {@link #ready} calls when {@code ready} threw; the handler must release everything. */
    void failed(Throwable cause);
}
