package dev.chainsocks.proto;

/**
 * What happened to a request, in words every proxy protocol can express. Each protocol maps these to its own
 * codes: SOCKS5 one to one (RFC 1928 section 6), SOCKS4 to 0x5A granted / 0x5B rejected, HTTP to a status line.
 */
public enum ReplyStatus {
    SUCCEEDED,
    GENERAL_FAILURE,
    NOT_ALLOWED_BY_RULESET,
    NETWORK_UNREACHABLE,
    HOST_UNREACHABLE,
    CONNECTION_REFUSED,
    TTL_EXPIRED,
    COMMAND_NOT_SUPPORTED,
    ADDRESS_TYPE_NOT_SUPPORTED
}
