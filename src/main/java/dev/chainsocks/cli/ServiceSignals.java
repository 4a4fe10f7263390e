package dev.chainsocks.cli;

import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT end a foreground service with exit code 0 (a JVM shutdown hook alone would exit 143);
 * SIGHUP asks it to reload.
 */
final class ServiceSignals {

    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile String stopSignal;

    ServiceSignals() {
        Signal.handle(new Signal("TERM"), signal -> requestStop("SIGTERM"));
        Signal.handle(new Signal("INT"), signal -> requestStop("SIGINT"));
    }

    void onReload(Runnable reload) {
        Signal.handle(new Signal("HUP"), signal -> reload.run());
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
