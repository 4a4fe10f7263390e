package dev.chainsocks.cli;

import dev.chainsocks.linux.SignalDisposition;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import org.tinylog.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT end a foreground service with exit code 0 (a JVM shutdown hook alone would exit 143);
 * SIGHUP asks it to reload.
 *
 * <p>SIGHUP is handled even when the process inherited it ignored, as under {@code nohup}: there the JVM would
 * otherwise drop the handler without a word, and {@code kill -HUP} or {@code systemctl reload} would silently do
 * nothing. What {@code nohup} is for still holds, because for chainsocks a hang-up is a reload, never the end of the
 * process. Where the disposition cannot be changed (no libc), a warning says that only {@code chainsocks reload}
 * works.
 */
final class ServiceSignals {

    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile String stopSignal;

    ServiceSignals() {
        Signal.handle(new Signal("TERM"), signal -> requestStop("SIGTERM"));
        Signal.handle(new Signal("INT"), signal -> requestStop("SIGINT"));
    }

    /** Runs {@code reload} on each SIGHUP; returns whether the handler is in place. */
    boolean onReload(Runnable reload) {
        Signal hangup = new Signal("HUP");
        SignalHandler handler = signal -> reload.run();
        if (Signal.handle(hangup, handler) != SignalHandler.SIG_IGN) {
            return true;
        }
        try {
            SignalDisposition.restoreDefaultHangupAction();
        } catch (IOException | UnsupportedOperationException e) {
            Logger.warn("SIGHUP was ignored when chainsocks started (nohup?) and cannot be handled here ({}); "
                    + "reload with chainsocks reload instead", e.getMessage());
            return false;
        }
        if (Signal.handle(hangup, handler) == SignalHandler.SIG_IGN) {
            Logger.warn("SIGHUP was ignored when chainsocks started (nohup?) and stays ignored; reload with "
                    + "chainsocks reload instead");
            return false;
        }
        Logger.info("SIGHUP was ignored when chainsocks started (nohup?); it reloads the configuration all the same");
        return true;
    }

    void requestStop(String why) {
        stopSignal = why;
        stop.countDown();
    }

    /** Blocks until a stop signal; returns its name. */
    String awaitStop() throws InterruptedException {
        stop.await();
        return stopSignal;
    }
}
