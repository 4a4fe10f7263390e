package dev.chainsocks.server;

import dev.chainsocks.proto.ReplyStatus;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;

/**
 * Which reply tells a client the truth about a failed connect. Decided by the exception's type, never by its
 * message. The JDK raises {@link ConnectException} for ECONNREFUSED, {@link NoRouteToHostException} for
 * EHOSTUNREACH and a plain {@link SocketException} for ENETUNREACH; our own deadline is a
 * {@link SocketTimeoutException}.
 */
final class FailureReplies {

    private FailureReplies() {
    }

    static ReplyStatus forFailure(Throwable failure) {
        if (failure instanceof DeniedException) {
            return ReplyStatus.NOT_ALLOWED_BY_RULESET;
        }
        if (failure instanceof ConnectException) {
            return ReplyStatus.CONNECTION_REFUSED;
        }
        if (failure instanceof NoRouteToHostException || failure instanceof UnknownHostException
                || failure instanceof UnresolvedAddressException || failure instanceof PortUnreachableException) {
            return ReplyStatus.HOST_UNREACHABLE;
        }
        if (failure instanceof SocketTimeoutException) {
            return ReplyStatus.TTL_EXPIRED;
        }
        if (failure instanceof UnsupportedAddressTypeException) {
            return ReplyStatus.ADDRESS_TYPE_NOT_SUPPORTED;
        }
        if (failure instanceof SocketException) {
            return ReplyStatus.NETWORK_UNREACHABLE;
        }
        return ReplyStatus.GENERAL_FAILURE;
    }

    /** A client or destination that the server's rules turn away. */
    static final class DeniedException extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        DeniedException(String message) {
            super(message);
        }
    }
}
