package dev.chainsocks.session;

import dev.chainsocks.engine.Acceptor;
import dev.chainsocks.engine.ChannelClose;
import dev.chainsocks.engine.EventLoop;
import dev.chainsocks.log.AccessLog;
import dev.chainsocks.log.RefusalKind;
import dev.chainsocks.proto.Destination;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import org.tinylog.Logger;

/**
 * The life every accepted client connection shares, whoever serves it (the redirector or the bundled server): an
 * id for its log lines, the event loop it lives on, its channel and its connection-limit permit, and exactly one
 * ending. A session that ended before it asked for anything gets one {@code refused} line; one that started gets a
 * {@code start} and an {@code end} line. After the ending the client is closed, the permit released and
 * {@link #ended()} called, once, whatever path got there.
 *
 * <p>Loop thread only, except where a method says otherwise.
 */
public abstract class ClientSession {

    protected final long id = AccessLog.nextSessionId();
    protected final EventLoop loop;
    protected final SocketChannel client;
    private final Acceptor acceptor;
    private final long startNanos = System.nanoTime();
    private volatile InetSocketAddress clientAddress;
    private boolean over;

    protected ClientSession(EventLoop loop, SocketChannel client, Acceptor acceptor) {
        this.loop = loop;
        this.client = client;
        this.acceptor = acceptor;
    }

    public final long id() {
        return id;
    }

    /** The client's address, read once when the session begins; null if the client was already gone. */
    protected final InetSocketAddress clientAddress() {
        return clientAddress;
    }

    /** Reads the client's address, which every log line shows. */
    protected final void readClientAddress() throws IOException {
        clientAddress = (InetSocketAddress) client.getRemoteAddress();
    }

    /** Whether the session has had its ending. */
    protected final boolean isOver() {
        return over;
    }

    protected final Duration age() {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    /** The start line, once the session knows where the client is going and how. */
    protected final void started(Destination destination, String via) {
        AccessLog.start(id, clientAddress, destination, via);
    }

    /**
     * Runs a step; a bug that throws ends the session (the client is reset, the stack logged) instead of leaving
     * the client waiting for an answer that will never come.
     */
    protected final void guarded(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            Logger.error(e, "session {}: unexpected error", id);
            ChannelClose.withReset(client);
            failedInternally("internal error: " + e);
        }
    }

    /** How this kind of session ends after an unexpected error in a guarded step (the client is already reset). */
    protected abstract void failedInternally(String outcome);

    /** The ending of a session that never asked for anything: one {@code refused} line, rate-limited per kind. */
    protected final void refuse(RefusalKind kind, String why) {
        if (over) {
            return;
        }
        over = true;
        ChannelClose.quietly(client);
        AccessLog.refused(id, clientAddress, kind, why);
        release();
    }

    /** The ending of a session that started: its {@code end} line. */
    protected final void end(Destination destination, String via, long bytesUp, long bytesDown, String outcome) {
        if (over) {
            return;
        }
        over = true;
        ChannelClose.quietly(client);
        AccessLog.end(id, clientAddress, destination, via, bytesUp, bytesDown, age(), outcome);
        release();
    }

    private void release() {
        acceptor.release();
        ended();
    }

    /** The owner's bookkeeping after the ending (live table, counters, ports): called exactly once. */
    protected abstract void ended();
}
