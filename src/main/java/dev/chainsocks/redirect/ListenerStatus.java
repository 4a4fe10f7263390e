package dev.chainsocks.redirect;

import dev.chainsocks.chain.ChainHealth;
import dev.chainsocks.config.ListenerConfig;
import java.net.InetSocketAddress;
import java.util.List;

/** A listener as {@code chainsocks status} shows it. */
public record ListenerStatus(InetSocketAddress bound, ListenerConfig config, List<ChainHealth> chains) {
}
