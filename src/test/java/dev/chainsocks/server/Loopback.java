package dev.chainsocks.server;

import dev.chainsocks.testsupport.Prerequisite;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;

/** The loopback addresses these tests use; nothing here ever leaves the machine. */
final class Loopback {

    static final InetAddress V4 = literal("127.0.0.1");
    /** Another address of 127/8: Linux routes all of it to lo, so a peer can connect "from somewhere else". */
    static final InetAddress V4_OTHER = literal("127.0.0.2");
    static final InetAddress V6 = literal("::1");

    private Loopback() {
    }

    private static InetAddress literal(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code ::1}, or skip the test on a machine whose loopback has no IPv6 (some containers). */
    static InetAddress v6OrSkip() {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(V6, 0));
        } catch (IOException e) {
            throw Prerequisite.missing("no IPv6 loopback (::1) on this machine: " + e.getMessage());
        }
        return V6;
    }

    /** What "localhost" resolves to in this JVM, which is also what the in-process server resolves it to. */
    static InetAddress localhost() {
        try {
            return InetAddress.getByName("localhost");
        } catch (UnknownHostException e) {
            throw new AssertionError("localhost does not resolve", e);
        }
    }
}
