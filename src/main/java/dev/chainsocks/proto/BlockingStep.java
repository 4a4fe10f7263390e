package dev.chainsocks.proto;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * Work a handshake waits for that may block: a GSS-API call that reads a keytab or asks a KDC for a ticket. A
 * handshake never runs it itself; it hands the step to its driver ({@link ClientHandshake#takeBlockingStep()},
 * {@link ServerHandshake#takeBlockingStep()}), which calls {@link #run()} off the event loop and then
 * {@link #complete()} on it, after which the handshake has queued its next bytes or decided its outcome.
 *
 * @param <T> what the work produces
 */
public final class BlockingStep<T> {

    private final String description;
    private final Callable<T> work;
    private final Consumer<T> then;
    private final Consumer<Exception> otherwise;
    private T result;
    private Exception failure;
    private boolean ran;

    public BlockingStep(String description, Callable<T> work, Consumer<T> then, Consumer<Exception> otherwise) {
        this.description = Objects.requireNonNull(description, "description");
        this.work = Objects.requireNonNull(work, "work");
        this.then = Objects.requireNonNull(then, "then");
        this.otherwise = Objects.requireNonNull(otherwise, "otherwise");
    }

    /**
     * Off the loop: does the work and keeps its result or failure. Never throws. The driver's hand-off back to
     * the loop (an executor queue) publishes what it kept.
     */
    public void run() {
        try {
            result = work.call();
        } catch (Exception e) {
            failure = e;
        } catch (LinkageError e) {
            // A mechanism that cannot initialise (bad JVM Kerberos settings) fails this step instead of leaving
            // the handshake waiting for its deadline.
            failure = new IllegalStateException(e.toString(), e);
        } finally {
            ran = true;
        }
    }

    /** On the loop, after {@link #run()}: gives the result (or failure) to the handshake. */
    public void complete() {
        if (!ran) {
            throw new IllegalStateException(description + ": complete() before run()");
        }
        if (failure != null) {
            otherwise.accept(failure);
        } else {
            then.accept(result);
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
