package dev.chainsocks.proto;

/** Protecting a message failed (the mechanism refused to wrap); the message says why. */
public final class ProtectionException extends Exception {

    public ProtectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
