package dev.chainsocks.proto.socks5;

import java.util.Objects;

/** The RFC 1929 (section 2) sub-negotiation response, {@code VER=1 STATUS}. */
public record Socks5PasswordAuthResponse(Socks5PasswordAuthStatus status) {

    public Socks5PasswordAuthResponse {
        Objects.requireNonNull(status, "status");
    }

    public boolean succeeded() {
        return status == Socks5PasswordAuthStatus.SUCCESS;
    }

    @Override
    public String toString() {
        return "SOCKS5 password authentication " + status;
    }
}
