package dev.chainsocks.proto;

import java.util.Objects;

/** What a server handshake made of a client's bytes. */
public sealed interface ServerOutcome {

    /** A well-formed request from an authenticated (or not required to be) client. */
    record Request(ProxyProtocol protocol, Command command, Destination destination, String user)
            implements ServerOutcome {
        public Request {
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(command, "command");
            Objects.requireNonNull(destination, "destination");
        }

        @Override
        public String toString() {
            return protocol + " " + command + " " + destination + (user == null ? "" : " user " + user);
        }
    }

    /**
     * A SOCKS4/4a request that may be served once the client host's identd confirms its USERID (RFC 1413). Nothing
     * is in the outbound buffer yet: the server asks identd and hands the verdict to the handshake, whose outcome
     * then becomes {@code request} or {@link Rejected} with the SOCKS4 answer queued.
     */
    record NeedsIdentConfirmation(Request request) implements ServerOutcome {
        public NeedsIdentConfirmation {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(request.user(), "a request to confirm names a user");
        }

        @Override
        public String toString() {
            return request + ", identd to confirm";
        }
    }

    /**
     * The client must be turned away; the protocol's answer (no acceptable method, auth failure, bad command,
     * bad address type, ...) is already in the outbound buffer, or it is empty when the protocol has none.
     */
    record Rejected(String reason) implements ServerOutcome {
        @Override
        public String toString() {
            return "rejected: " + reason;
        }
    }

    /** The generic commands the server acts on. */
    enum Command {
        CONNECT,
        BIND,
        UDP_ASSOCIATE,
        /** A plain HTTP proxy request in absolute form (GET http://host/...): forward it, do not tunnel. */
        HTTP_FORWARD
    }

    enum ProxyProtocol {
        SOCKS4,
        SOCKS4A,
        SOCKS5,
        HTTP;

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
