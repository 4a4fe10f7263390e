package dev.chainsocks.config;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.DurationSyntax;
import dev.chainsocks.syntax.SizeSyntax;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Prints a {@link ChainsocksConfig} back as TOML that {@link ConfigLoader} reads, with every default written out:
 * what {@code chainsocks check} shows as the effective configuration.
 */
public final class ConfigRenderer {

    private ConfigRenderer() {
    }

    /** The effective configuration with passwords shown as {@code ***}. */
    public static String render(ChainsocksConfig config) {
        return render(config, false);
    }

    /**
     * The effective configuration.
     *
     * @param revealPasswords whether hop passwords are written as they are (for writing a file back) or as
     *                        {@code ***} (for anything shown)
     */
    public static String render(ChainsocksConfig config, boolean revealPasswords) {
        StringBuilder out = new StringBuilder();
        out.append("# Effective chainsocks configuration");
        config.source().ifPresent(p -> out.append(" from ").append(p));
        out.append("\n# Every default is written out");
        out.append(revealPasswords ? ".\n" : "; passwords are shown as ***.\n");

        ServiceConfig service = config.service();
        out.append("\n[service]\n");
        key(out, "log-level", string(service.logLevel().name().toLowerCase(Locale.ROOT)));
        key(out, "max-connections", String.valueOf(service.maxConnections()));
        service.controlSocket().ifPresentOrElse(path -> key(out, "control-socket", string(path.toString())),
                () -> out.append("# control-socket not set: $RUNTIME_DIRECTORY/control.sock under systemd, "
                        + "/run/chainsocks/control.sock for root, else $XDG_RUNTIME_DIR/chainsocks/control.sock\n"));
        service.mark().ifPresent(mark -> key(out, "mark", ServiceConfig.hex(mark)));
        key(out, "shutdown-grace", duration(service.shutdownGrace()));

        TimeoutsConfig timeouts = config.timeouts();
        out.append("\n[timeouts]\n");
        key(out, "connect", duration(timeouts.connect()));
        key(out, "handshake", duration(timeouts.handshake()));
        key(out, "dial", duration(timeouts.dial()));
        key(out, "idle", duration(timeouts.idle()));
        timeouts.keepalive().ifPresentOrElse(k -> {
            key(out, "keepalive-idle", duration(k.idle()));
            key(out, "keepalive-interval", duration(k.interval()));
            key(out, "keepalive-count", String.valueOf(k.count()));
        }, () -> out.append("# keepalive-idle not set: no TCP keepalive\n"));

        RelayConfig relay = config.relay();
        out.append("\n[relay]\n");
        key(out, "mode", string(relay.mode().configName()));
        key(out, "memory", string(SizeSyntax.format(relay.memory())));

        for (ListenerConfig listener : config.listeners()) {
            out.append("\n[[listener]]\n");
            key(out, "listen", string(AddressSyntax.format(listener.listen())));
            key(out, "lookup", string(listener.lookup().configName()));
            key(out, "chains", listener.chains().stream().map(ConfigRenderer::string)
                    .collect(Collectors.joining(", ", "[", "]")));
            key(out, "policy", string(listener.policy().configName()));
            key(out, "failover-backoff", duration(listener.failoverBackoff()));
            key(out, "recover-name", string(listener.recoverName().configName()));
            key(out, "on-proxy-fail", string(listener.onProxyFail().configName()));
            key(out, "disclose-src", string(listener.discloseSource().configName()));
        }

        for (UdpListenerConfig listener : config.udpListeners()) {
            out.append("\n[[listener]]\n");
            key(out, "protocol", string(ListenerProtocol.UDP.configName()));
            key(out, "listen", string(AddressSyntax.format(listener.listen())));
            key(out, "lookup", string(listener.lookup().configName()));
            listener.destination().ifPresent(to -> key(out, "destination", string(AddressSyntax.format(to))));
            key(out, "chains", listener.chains().stream().map(ConfigRenderer::string)
                    .collect(Collectors.joining(", ", "[", "]")));
            key(out, "flow-idle-timeout", duration(listener.flowIdle()));
            key(out, "max-flows", String.valueOf(listener.maxFlows()));
        }

        for (ProxyChain chain : config.chains().values()) {
            out.append("\n[chain.").append(chain.name()).append("]\n");
            List<String> hops = chain.hops().stream().map((ProxyHop hop) -> string(hop.uri(revealPasswords))).toList();
            key(out, "hops", hops.isEmpty() ? "[]" : "[\n    " + String.join(",\n    ", hops) + ",\n]");
            TimeoutsConfig own = config.timeoutsFor(chain.name());
            key(out, "connect-timeout", duration(own.connect()));
            key(out, "handshake-timeout", duration(own.handshake()));
        }

        config.metrics().ifPresent(metrics -> {
            out.append("\n[metrics]\n");
            key(out, "listen", string(AddressSyntax.format(metrics.listen())));
            key(out, "allow-remote", String.valueOf(metrics.allowRemote()));
        });

        config.dns().ifPresent(dns -> {
            out.append("\n[dns]\n");
            key(out, "listen", dns.listen().stream().map(a -> string(AddressSyntax.format(a)))
                    .collect(Collectors.joining(", ", "[", "]")));
            key(out, "fake-ipv4", string(dns.fakeIpv4().toString()));
            key(out, "fake-ipv6", string(dns.fakeIpv6().toString()));
            key(out, "ttl", duration(dns.ttl()));
            key(out, "max-entries", String.valueOf(dns.maxEntries()));
            for (DnsConfig.Action action : DnsConfig.Action.values()) {
                key(out, action.configName(), dns.rules().stream().filter(r -> r.action() == action)
                        .map(r -> string(r.suffix())).collect(Collectors.joining(", ", "[", "]")));
            }
            key(out, "default", string(dns.defaultAction().configName()));
            dns.upstream().ifPresentOrElse(u -> key(out, "upstream", string(AddressSyntax.format(u))),
                    () -> out.append("# upstream not set: names that are not proxied are refused\n"));
            dns.upstreamViaChain().ifPresent(c -> key(out, "upstream-via-chain", string(c)));
            key(out, "timeout", duration(dns.timeout()));
        });

        out.append("\n[firewall]\n");
        List<String> exempt = config.firewall().exempt().stream().map(c -> string(c.toString())).toList();
        key(out, "exempt", exempt.isEmpty() ? "[]" : "[\n    " + String.join(",\n    ", exempt) + ",\n]");
        key(out, "tproxy-mark", ServiceConfig.hex(config.firewall().tproxyMark()));
        key(out, "tproxy-table", String.valueOf(config.firewall().tproxyTable()));
        key(out, "redirect-dns", String.valueOf(config.firewall().redirectDns()));
        return out.toString();
    }

    private static void key(StringBuilder out, String key, String value) {
        out.append(key).append(" = ").append(value).append('\n');
    }

    private static String duration(java.time.Duration d) {
        return string(DurationSyntax.format(d));
    }

    /** A TOML basic string. */
    private static String string(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\u%04X", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
