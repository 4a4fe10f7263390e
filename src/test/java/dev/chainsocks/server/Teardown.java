package dev.chainsocks.server;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a test opened, closed in reverse order after it: clients before the proxy server, the proxy server before
 * the peers behind it. Every close runs; the first failure is thrown with the others suppressed, so a peer that
 * saw an error in its own thread fails the test that caused it.
 */
final class Teardown implements AutoCloseable {

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();

    <T extends AutoCloseable> T add(T resource) {
        opened.push(resource);
        return resource;
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception | AssertionError e) {
                Exception wrapped = e instanceof Exception ex ? ex : new Exception(e.getMessage(), e);
                if (first == null) {
                    first = wrapped;
                } else {
                    first.addSuppressed(wrapped);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
