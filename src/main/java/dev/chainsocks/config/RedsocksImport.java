package dev.chainsocks.config;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a {@link RedsocksConf} into the text of an equivalent chainsocks configuration: each {@code redsocks}
 * section becomes a {@code [[listener]]} with a one-hop {@code [chain.redsocks-N]}, each {@code redudp} section a UDP
 * {@code [[listener]]} with a one-hop {@code [chain.redudp-N]} (with {@code dest_ip}/{@code dest_port}: lookup
 * {@code fixed} to that destination; without: TPROXY), {@code base} becomes {@code [service]} and
 * {@code [timeouts]} keys, and every key or section with no equivalent (a {@code dnstc} section, {@code daemon},
 * {@code chroot}, ...) is named in a {@code # redsocks:} comment saying what to do instead. The text is meant for
 * {@code chainsocks check} and then for use as it is.
 */
public final class RedsocksImport {

    /** Comments start with this, so a reader can find everything that did not carry over. */
    public static final String NOTE = "# redsocks: ";

    private static final Map<String, String> TYPES = Map.of("socks4", "socks4", "socks5", "socks5",
            "http-connect", "http", "http-relay", "http-relay");

    private RedsocksImport() {
    }

    /**
     * The chainsocks configuration text.
     *
     * @throws ConfigException naming {@code file:line} for a value that cannot be carried over (a missing
     *                         {@code port}, an unknown {@code type}, a number that is not one)
     */
    public static String toToml(RedsocksConf conf) throws ConfigException {
        List<String> problems = new ArrayList<>();
        StringBuilder service = new StringBuilder();
        StringBuilder timeouts = new StringBuilder();
        StringBuilder listeners = new StringBuilder();
        StringBuilder chains = new StringBuilder();
        StringBuilder rest = new StringBuilder();
        int redsocksCount = 0;
        int redudpCount = 0;
        String source = conf.source().toString();

        for (RedsocksConf.Section section : conf.sections()) {
            String where = source + ":" + section.line();
            switch (section.name()) {
                case "base" -> base(section, service, timeouts, problems, source);
                case "redsocks" -> {
                    redsocksCount++;
                    redsocks(section, redsocksCount, listeners, chains, problems, source);
                }
                case "redudp" -> {
                    redudpCount++;
                    redudp(section, redudpCount, listeners, chains, problems, source);
                }
                case "dnstc", "dnsu2t" -> {
                    rest.append('\n').append(NOTE).append(section.name()).append(" { } at ").append(where)
                            .append(" is not imported. Its keys were:\n");
                    entries(section, rest);
                    rest.append(NOTE).append("a [dns] table does its job: proxied names get fake addresses that")
                            .append(" the last proxy resolves,\n").append(NOTE).append("other names go to")
                            .append(" upstream, over TCP through a chain with upstream-via-chain")
                            .append(" (docs/configuration.md).\n");
                }
                default -> problems.add(where + ": unknown section \"" + section.name()
                        + "\" (redsocks knows base, redsocks, redudp, dnstc and dnsu2t)");
            }
        }
        if (redsocksCount == 0 && redudpCount == 0) {
            problems.add(source + ": no redsocks { } or redudp { } section: nothing to listen on");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        StringBuilder out = new StringBuilder();
        out.append("# chainsocks configuration imported from ").append(source)
                .append(" by `chainsocks import-redsocks`.\n");
        out.append("# Check it with `chainsocks check --config FILE`. Lines starting with \"").append(NOTE.strip())
                .append("\" name what has\n# no equivalent and what to do instead.\n");
        if (service.length() > 0) {
            out.append("\n[service]\n").append(service);
        }
        if (timeouts.length() > 0) {
            out.append("\n[timeouts]\n").append(timeouts);
        }
        out.append(listeners).append(chains).append(rest);
        return out.toString();
    }

    private static void base(RedsocksConf.Section section, StringBuilder service, StringBuilder timeouts,
                             List<String> problems, String source) {
        boolean debug = section.get("log_debug").map(v -> bool(v, source, section, problems)).orElse(false);
        boolean info = section.get("log_info").map(v -> bool(v, source, section, problems)).orElse(true);
        if (section.get("log_debug").isPresent() || section.get("log_info").isPresent()) {
            service.append("log-level = \"").append(debug ? "debug" : info ? "info" : "warn").append("\"\n");
        }
        if (section.get("tcp_keepalive_time").isEmpty() && (section.get("tcp_keepalive_intvl").isPresent()
                || section.get("tcp_keepalive_probes").isPresent())) {
            timeouts.append("keepalive-idle = \"7200s\"  # tcp_keepalive_time not set: the kernel's default\n");
        }
        for (RedsocksConf.Entry e : section.entries()) {
            String at = "base " + e.key() + " = " + e.value() + " (line " + e.line() + ")";
            switch (e.key()) {
                case "log_debug", "log_info" -> { }
                case "log" -> service.append(NOTE).append(at).append(": chainsocks writes to standard error, which")
                        .append(" systemd sends to the journal (journalctl -u chainsocks)\n");
                case "daemon" -> service.append(NOTE).append(at).append(": systemd runs chainsocks in the")
                        .append(" foreground (Type=notify)\n");
                case "user", "group" -> service.append(NOTE).append(at).append(": set User=/Group= in")
                        .append(" chainsocks.service (it runs as user chainsocks)\n");
                case "chroot" -> service.append(NOTE).append(at).append(": the unit's sandboxing replaces it")
                        .append(" (ProtectSystem=strict, ...)\n");
                case "redirector" -> {
                    if (!e.value().equals("iptables")) {
                        service.append(NOTE).append(at).append(": Linux netfilter only; listeners use lookup =")
                                .append(" \"netfilter\"\n");
                    }
                }
                case "redsocks_conn_max" -> number(e, source, problems)
                        .ifPresent(n -> service.append("max-connections = ").append(n).append('\n'));
                case "connpres_idle_timeout" -> number(e, source, problems).ifPresent(n -> timeouts
                        .append("idle = \"").append(n).append("s\"  # connpres_idle_timeout: chainsocks closes")
                        .append(" every relay idle this long\n"));
                case "rlimit_nofile" -> service.append(NOTE).append(at).append(": set LimitNOFILE= in")
                        .append(" chainsocks.service\n");
                case "max_accept_backoff" -> service.append(NOTE).append(at).append(": not configurable (10 ms")
                        .append(" doubling up to 1 s)\n");
                case "tcp_keepalive_time" -> number(e, source, problems).ifPresent(n -> timeouts
                        .append("keepalive-idle = \"").append(n).append("s\"\n"));
                case "tcp_keepalive_intvl" -> number(e, source, problems).ifPresent(n -> timeouts
                        .append("keepalive-interval = \"").append(n).append("s\"\n"));
                case "tcp_keepalive_probes" -> number(e, source, problems).ifPresent(n -> timeouts
                        .append("keepalive-count = ").append(n).append('\n'));
                default -> problems.add(source + ":" + e.line() + ": unknown key \"" + e.key()
                        + "\" in section base");
            }
        }
    }

    private static void redsocks(RedsocksConf.Section section, int number, StringBuilder listeners,
                                 StringBuilder chains, List<String> problems, String source) {
        String where = source + ":" + section.line();
        String chain = "redsocks-" + number;
        String localIp = section.get("local_ip").orElse("127.0.0.1");
        Optional<String> localPort = section.get("local_port");
        Optional<String> ip = section.get("ip");
        Optional<String> port = section.get("port");
        Optional<String> type = section.get("type");
        if (localPort.isEmpty() || ip.isEmpty() || port.isEmpty() || type.isEmpty()) {
            List<String> missing = new ArrayList<>();
            localPort.ifPresentOrElse(v -> { }, () -> missing.add("local_port"));
            ip.ifPresentOrElse(v -> { }, () -> missing.add("ip"));
            port.ifPresentOrElse(v -> { }, () -> missing.add("port"));
            type.ifPresentOrElse(v -> { }, () -> missing.add("type"));
            problems.add(where + ": redsocks { } without " + String.join(", ", missing));
            return;
        }
        String scheme = TYPES.get(type.get().toLowerCase(Locale.ROOT));
        if (scheme == null) {
            problems.add(where + ": redsocks { } type \"" + type.get() + "\" is not socks4, socks5, http-connect or"
                    + " http-relay");
            return;
        }
        List<String> notes = new ArrayList<>();
        String onProxyFail = null;
        String discloseSrc = null;
        for (RedsocksConf.Entry e : section.entries()) {
            String at = e.key() + " = " + e.value() + " (line " + e.line() + ")";
            switch (e.key()) {
                case "local_ip", "local_port", "ip", "port", "type", "login", "password" -> { }
                case "on_proxy_fail" -> {
                    switch (e.value()) {
                        case "close" -> onProxyFail = "reset";
                        case "forward_http_err" -> onProxyFail = "http-error";
                        default -> problems.add(source + ":" + e.line() + ": on_proxy_fail \"" + e.value()
                                + "\" is not close or forward_http_err");
                    }
                }
                case "disclose_src" -> {
                    switch (e.value().toLowerCase(Locale.ROOT)) {
                        case "false", "off", "no" -> discloseSrc = "off";
                        case "x-forwarded-for" -> discloseSrc = "x-forwarded-for";
                        case "forwarded_ip" -> discloseSrc = "forwarded";
                        case "forwarded_ipport" -> {
                            discloseSrc = "forwarded";
                            notes.add(at + ": Forwarded names the client's address without its port");
                        }
                        default -> problems.add(source + ":" + e.line() + ": disclose_src \"" + e.value()
                                + "\" is not false, X-Forwarded-For, Forwarded_ip or Forwarded_ipport");
                    }
                }
                case "listenq" -> notes.add(at + ": not configurable (backlog 4096, capped by"
                        + " net.core.somaxconn)");
                case "min_accept_backoff", "max_accept_backoff" -> notes.add(at + ": not configurable");
                case "splice" -> notes.add(at + ": [relay] mode = \"splice\" is the default");
                default -> problems.add(source + ":" + e.line() + ": unknown key \"" + e.key()
                        + "\" in section redsocks");
            }
        }
        String userInfo = "";
        Optional<String> login = section.get("login");
        Optional<String> password = section.get("password");
        if (login.isPresent()) {
            if (scheme.equals("socks4")) {
                userInfo = encode(login.get()) + "@";
                password.ifPresent(p -> notes.add("password (line " + entryLine(section, "password")
                        + "): SOCKS4 carries a userid only; the password is dropped"));
            } else if (password.isEmpty() && scheme.equals("socks5")) {
                problems.add(source + ":" + entryLine(section, "login") + ": a socks5 login needs a password");
                return;
            } else {
                userInfo = encode(login.get()) + ":" + encode(password.orElse("")) + "@";
            }
        }
        String host = ip.get().contains(":") && !ip.get().startsWith("[") ? "[" + ip.get() + "]" : ip.get();
        String listenHost = localIp.contains(":") ? "[" + localIp + "]" : localIp;

        listeners.append("\n# redsocks { } at ").append(where).append('\n');
        listeners.append("[[listener]]\n");
        listeners.append("listen = ").append(string(listenHost + ":" + localPort.get())).append('\n');
        listeners.append("chains = [").append(string(chain)).append("]\n");
        if (onProxyFail != null) {
            listeners.append("on-proxy-fail = ").append(string(onProxyFail)).append('\n');
        }
        if (discloseSrc != null) {
            listeners.append("disclose-src = ").append(string(discloseSrc)).append('\n');
        }
        if (localIp.startsWith("127.")) {
            listeners.append(NOTE).append("local_ip ").append(localIp).append(" receives this host's own")
                    .append(" connections only (chainsocks rules --mode local);\n").append(NOTE)
                    .append("listen on 0.0.0.0 for a LAN (gateway mode)\n");
        }
        for (String note : notes) {
            listeners.append(NOTE).append(note).append('\n');
        }
        chains.append("\n[chain.").append(chain).append("]\n");
        chains.append("hops = [").append(string(scheme + "://" + userInfo + host + ":" + port.get())).append("]\n");
    }

    /**
     * A redudp section: a UDP listener through a one-hop SOCKS5 chain. With {@code dest_ip} and {@code dest_port}
     * every datagram goes there ({@code lookup = "fixed"}); without them redudp takes each datagram's destination
     * from TPROXY, and so does the listener.
     */
    private static void redudp(RedsocksConf.Section section, int number, StringBuilder listeners,
                               StringBuilder chains, List<String> problems, String source) {
        String where = source + ":" + section.line();
        String chain = "redudp-" + number;
        String localIp = section.get("local_ip").orElse("127.0.0.1");
        Optional<String> localPort = section.get("local_port");
        Optional<String> ip = section.get("ip");
        Optional<String> port = section.get("port");
        if (localPort.isEmpty() || ip.isEmpty() || port.isEmpty()) {
            List<String> missing = new ArrayList<>();
            localPort.ifPresentOrElse(v -> { }, () -> missing.add("local_port"));
            ip.ifPresentOrElse(v -> { }, () -> missing.add("ip"));
            port.ifPresentOrElse(v -> { }, () -> missing.add("port"));
            problems.add(where + ": redudp { } without " + String.join(", ", missing));
            return;
        }
        Optional<String> destIp = section.get("dest_ip");
        Optional<String> destPort = section.get("dest_port");
        if (destIp.isPresent() != destPort.isPresent()) {
            problems.add(source + ":" + entryLine(section, destIp.isPresent() ? "dest_ip" : "dest_port")
                    + ": redudp { } has " + (destIp.isPresent() ? "dest_ip without dest_port" : "dest_port without"
                    + " dest_ip") + "; give both (one fixed destination) or neither (TPROXY)");
            return;
        }
        List<String> notes = new ArrayList<>();
        Optional<Long> idle = Optional.empty();
        for (RedsocksConf.Entry e : section.entries()) {
            String at = e.key() + " = " + e.value() + " (line " + e.line() + ")";
            switch (e.key()) {
                case "local_ip", "local_port", "ip", "port", "login", "password", "dest_ip", "dest_port" -> { }
                case "udp_timeout" -> idle = number(e, source, problems);
                case "udp_timeout_stream" -> notes.add(at + ": chainsocks has one flow-idle-timeout for every"
                        + " flow");
                default -> problems.add(source + ":" + e.line() + ": unknown key \"" + e.key()
                        + "\" in section redudp");
            }
        }
        String userInfo = "";
        Optional<String> login = section.get("login");
        if (login.isPresent()) {
            Optional<String> password = section.get("password");
            if (password.isEmpty()) {
                problems.add(source + ":" + entryLine(section, "login") + ": a socks5 login needs a password");
                return;
            }
            userInfo = encode(login.get()) + ":" + encode(password.get()) + "@";
        }
        String host = bracketed(ip.get());
        listeners.append("\n# redudp { } at ").append(where).append('\n');
        listeners.append("[[listener]]\n");
        listeners.append("protocol = \"udp\"\n");
        listeners.append("listen = ").append(string(bracketed(localIp) + ":" + localPort.get())).append('\n');
        if (destIp.isPresent()) {
            listeners.append("lookup = \"fixed\"\n");
            listeners.append("destination = ").append(string(bracketed(destIp.get()) + ":" + destPort.get()))
                    .append('\n');
        }
        listeners.append("chains = [").append(string(chain)).append("]\n");
        idle.ifPresent(seconds -> listeners.append("flow-idle-timeout = \"").append(seconds).append("s\"\n"));
        if (destIp.isEmpty()) {
            listeners.append(NOTE).append("no dest_ip: each datagram's own destination, from TPROXY; chainsocks")
                    .append(" rules writes the TPROXY rules\n");
        }
        for (String note : notes) {
            listeners.append(NOTE).append(note).append('\n');
        }
        chains.append("\n[chain.").append(chain).append("]\n");
        chains.append("hops = [").append(string("socks5://" + userInfo + host + ":" + port.get())).append("]\n");
    }

    /** An IPv6 literal in brackets, anything else as it is. */
    private static String bracketed(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static int entryLine(RedsocksConf.Section section, String key) {
        return section.entries().stream().filter(e -> e.key().equals(key)).mapToInt(RedsocksConf.Entry::line)
                .reduce((a, b) -> b).orElse(section.line());
    }

    private static void entries(RedsocksConf.Section section, StringBuilder out) {
        for (RedsocksConf.Entry e : section.entries()) {
            String value = e.key().equals("password") ? "***" : e.value();
            out.append(NOTE).append("  ").append(e.key()).append(" = ").append(value).append(";\n");
        }
    }

    private static boolean bool(String value, String source, RedsocksConf.Section section, List<String> problems) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "on", "yes", "true", "1" -> true;
            case "off", "no", "false", "0" -> false;
            default -> {
                problems.add(source + ":" + section.line() + ": \"" + value + "\" is not on or off");
                yield false;
            }
        };
    }

    private static Optional<Long> number(RedsocksConf.Entry e, String source, List<String> problems) {
        try {
            long n = Long.parseLong(e.value());
            if (n > 0) {
                return Optional.of(n);
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        problems.add(source + ":" + e.line() + ": " + e.key() + " \"" + e.value() + "\" is not a positive number");
        return Optional.empty();
    }

    /** Percent-encodes a URI user or password: everything but unreserved characters and sub-delimiters. */
    private static String encode(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~!$&'()*+,;=".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    /** A TOML basic string. */
    private static String string(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
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
