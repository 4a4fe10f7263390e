package dev.chainsocks.linux;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;

/**
 * Reads the int file descriptor behind a JDK socket channel ({@code sun.nio.ch.SelChImpl.getFDVal()}).
 *
 * <p>The number is borrowed, never owned: it is used for one call while the channel is open and is neither
 * cached nor closed here. Access needs {@code java.base/sun.nio.ch} exported to us, which the chainsocks jar
 * manifest ({@code Add-Exports}) and the test JVM flags provide.
 */
final class ChannelDescriptor {
    private static final String INTERNAL_CLASS = "sun.nio.ch.SelChImpl";
    private static final Class<?> SEL_CH_IMPL;
    private static final MethodHandle GET_FD_VAL;
    private static final String PROBLEM;

    static {
        Class<?> type = null;
        MethodHandle handle = null;
        String problem = null;
        try {
            type = Class.forName(INTERNAL_CLASS);
            handle = MethodHandles.lookup().findVirtual(type, "getFDVal", MethodType.methodType(int.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            problem = "cannot read socket file descriptors (" + e + "); the JVM needs "
                    + "--add-exports java.base/sun.nio.ch=ALL-UNNAMED, or run chainsocks with java -jar so the "
                    + "jar manifest's Add-Exports applies";
        }
        SEL_CH_IMPL = type;
        GET_FD_VAL = handle;
        PROBLEM = problem;
    }

    private ChannelDescriptor() {
    }

    /** Why descriptors cannot be read here, when they cannot. */
    static java.util.Optional<String> problem() {
        return java.util.Optional.ofNullable(PROBLEM);
    }

    /**
     * The file descriptor of an open JDK socket channel.
     *
     * @throws IllegalStateException when {@code sun.nio.ch} is not exported to this code
     * @throws IllegalArgumentException when the channel is not one of the JDK's selectable socket channels
     * @throws ClosedChannelException when the channel is closed (its old number may belong to another file now)
     */
    static int of(Channel channel) throws ClosedChannelException {
        if (PROBLEM != null) {
            throw new IllegalStateException(PROBLEM);
        }
        if (!SEL_CH_IMPL.isInstance(channel)) {
            throw new IllegalArgumentException("not a JDK socket channel: " + channel.getClass().getName());
        }
        if (!channel.isOpen()) {
            throw new ClosedChannelException();
        }
        try {
            return (int) GET_FD_VAL.invoke(channel);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("getFDVal failed on " + channel, e);
        }
    }
}
