package dev.chainsocks.proto;

/** A GSS-API call failed; the message is the mechanism's own text ("Checksum failed", "Clock skew too great"). */
public final class GssapiException extends Exception {

    public GssapiException(String message, Throwable cause) {
        super(message, cause);
    }

    public GssapiException(String message) {
        super(message);
    }
}
