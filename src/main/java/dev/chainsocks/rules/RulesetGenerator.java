package dev.chainsocks.rules;

import dev.chainsocks.chain.ChainPolicy;
import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ListenerConfig;
import dev.chainsocks.config.LookupKind;
import dev.chainsocks.config.ServiceConfig;
import dev.chainsocks.config.UdpListenerConfig;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.Cidr;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Writes the firewall rules that send connections to chainsocks, from the same configuration the service runs
 * with, so the two cannot drift apart.
 *
 * <p><b>REDIRECT</b> (listeners with {@code lookup = "netfilter"}). Per IP family there is one chain,
 * {@code CHAINSOCKS} in table nat for iptables/ip6tables, or chain {@code output} or {@code prerouting} in table
 * {@code ip chainsocks} / {@code ip6 chainsocks} for nft, hooked from nat OUTPUT ({@link RedirectMode#LOCAL}) or
 * nat PREROUTING, optionally only for one LAN interface ({@link RedirectMode#GATEWAY}). In order, it lets through
 * unchanged ({@code RETURN}):
 * <ol>
 *   <li>local mode: packets with {@code service.mark}, and packets of the owner uid when given — chainsocks' own
 *       upstream connections, which would otherwise loop back to it; one of the two is required;
 *   <li>destinations that are addresses of this machine;
 *   <li>every {@code firewall.exempt} network of the family;
 *   <li>the address and port of every chain's first hop when it is an IP literal. A first hop given by name is
 *       <em>not</em> resolved here (the rules would silently go stale when the name moves): it gets a comment and
 *       a warning, and its IP belongs in {@code firewall.exempt} if needed. In local mode the mark/owner match
 *       already keeps chainsocks' own connections to it out;
 * </ol>
 * and redirects the rest of TCP to the port of the family's listener: the first {@code [[listener]]} with
 * {@code lookup = "netfilter"} that receives that family (an IPv4 address or a dual-stack {@code [::]} for
 * IPv4, an IPv6 address for IPv6).
 *
 * <p><b>TPROXY</b> (listeners with {@code lookup = "tproxy"} and UDP listeners). Per IP family there is a chain
 * {@code CHAINSOCKS} in table mangle (iptables), or chain {@code divert} in the same nft tables, hooked from
 * PREROUTING, in gateway mode optionally for one LAN interface, in local mode for {@code lo} only. It lets the
 * same destinations through and hands the rest of each transport to its listener with TPROXY, setting the
 * {@code firewall.tproxy-mark} bits. Policy routing makes marked packets local:
 * {@code ip rule add fwmark MARK/MARK lookup TABLE} and {@code ip route add local 0.0.0.0/0 dev lo table TABLE}
 * (and {@code ::/0} for IPv6), both tagged with routing protocol {@value #ROUTE_PROTOCOL} so that removal finds
 * exactly them, whatever mark and table they were made with. Each {@link Transport} is one more input: the
 * first TPROXY listener of that transport receiving the family gets its packets. A family whose TCP goes to a
 * TPROXY listener gets no REDIRECT rules (TPROXY sees the packets first; both would fight over them).
 *
 * <p><b>DNS</b> (with {@code [dns]}, unless {@code firewall.redirect-dns = false}). Per IP family a chain
 * {@code CHAINSOCKS_DNS} in table nat (iptables), or chain {@code dns} in the same nft tables at priority -101, takes
 * UDP and TCP to port 53 from the same hook and interface as REDIRECT, lets the same packets through (mark and
 * owner in local mode, local destinations, exempt networks, first hops) and sends the rest to a {@code [dns]} listen
 * address of the family with DNAT: so a client that asks any server gets chainsocks' answer. Gateway mode needs a
 * non-loopback listen address (packets from other machines cannot be sent to loopback), local mode takes a
 * loopback one first. The iptables jumps are inserted first, so TCP port 53 never reaches the {@code CHAINSOCKS}
 * jump; a TPROXY chain lets port 53 through to them.
 *
 * <p>TPROXY acts only on arriving packets, so in <b>local mode</b> this machine's own packets are made to arrive:
 * chain {@value #MARK_CHAIN} in table mangle hooked from OUTPUT (nft: chain {@code reroute}, a route hook on
 * output) sets the TPROXY mark on each TPROXY transport's packets, the policy routing entry sends them to
 * {@code lo}, and they come back in through PREROUTING on {@code lo} to the TPROXY chain. chainsocks' own packets
 * (by {@code service.mark} or the owner uid) and the same destinations as above are let through unmarked; the
 * marking is added last, once diverting is in place.
 *
 * <p>A family no listener receives gets no rules, and {@code up} removes rules left in it by an earlier
 * configuration. Both backends' scripts also remove the other backend's rules, and only chainsocks' own: the
 * iptables scripts delete tables {@code ip chainsocks} and {@code ip6 chainsocks}, the nft scripts the
 * {@code CHAINSOCKS} chains and the jumps to them. Switching {@code --backend} therefore never leaves the old rules
 * in force beside the new ones. {@code up} removes the other backend's rules after its own are in place, so
 * connections are never left unredirected in between; a tool that is not installed is skipped, since it cannot
 * have rules.
 */
public final class RulesetGenerator {

    /** The iptables chain name, in tables nat and mangle; nft uses tables named {@code chainsocks}. */
    public static final String CHAIN = "CHAINSOCKS";

    /** The iptables chain in table nat that sends DNS to {@code [dns]}; nft's is chain {@code dns}. */
    public static final String DNS_CHAIN = "CHAINSOCKS_DNS";

    /** The port whose UDP and TCP packets the DNS rules send to {@code [dns]}. */
    public static final int DNS_PORT = 53;

    /**
     * The iptables chain in table mangle, hooked from OUTPUT in local mode, that marks this machine's own packets
     * for TPROXY so that policy routing loops them back through PREROUTING; nft's is chain {@code reroute}.
     */
    public static final String MARK_CHAIN = "CHAINSOCKS_MARK";

    /**
     * The routing protocol number ({@code ip rule ... protocol}, {@code ip route ... proto}) of the policy routing
     * entries for TPROXY, by which they are found again and removed; unassigned in iproute2's rt_protos.
     */
    public static final int ROUTE_PROTOCOL = 67;

    /** Every listener is TCP until listeners say otherwise. */
    private static final Function<ListenerConfig, Transport> LISTENER_TRANSPORT = listener -> Transport.TCP;

    /** The interface marked packets come back on in local mode. */
    private static final String LOOPBACK = "lo";

    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.:-]{1,15}");

    /** One IP family's tools and syntax. */
    private enum Family {
        IPV4("IPv4", "iptables", "ip", "ip daddr", "-4", "0.0.0.0"),
        IPV6("IPv6", "ip6tables", "ip6", "ip6 daddr", "-6", "::");

        final String label;
        final String iptables;
        final String nftFamily;
        final String nftDaddr;
        final String ipOption;
        final String any;

        Family(String label, String iptables, String nftFamily, String nftDaddr, String ipOption, String any) {
            this.label = label;
            this.iptables = iptables;
            this.nftFamily = nftFamily;
            this.nftDaddr = nftDaddr;
            this.ipOption = ipOption;
            this.any = any;
        }
    }

    /** A destination let through: a network, or one address and TCP port. */
    private record Exemption(String network, OptionalInt port, String comment) {
    }

    /** What one family's REDIRECT chain does. */
    private record Plan(Family family, ListenerConfig listener, int listenerNumber, List<Exemption> exemptions) {
    }

    /** One transport's packets of a family, handed to a TPROXY listener. */
    private record Target(Transport transport, ListenerConfig listener, int listenerNumber) {

        /** The listener's address, or the family's wildcard when it listens on a wildcard. */
        String onIp(Family family) {
            return listener.isWildcard() ? family.any : AddressSyntax.literal(listener.listen().getAddress());
        }

        String describe() {
            return transport + " to [[listener]] #" + listenerNumber + " " + AddressSyntax.format(listener.listen());
        }
    }

    /** What one family's TPROXY chain does. */
    private record Divert(Family family, List<Target> targets, List<Exemption> exemptions) {
    }

    /** What one family's DNS chain does: UDP and TCP port 53 to a {@code [dns]} listen address. */
    private record DnsRedirect(Family family, InetSocketAddress to, List<Exemption> exemptions) {

        /** {@code 192.0.2.1:53} or {@code [2001:db8::1]:53}, as iptables' DNAT and nft's dnat take it. */
        String target() {
            return AddressSyntax.format(to);
        }
    }

    /** Everything one family gets: REDIRECT, TPROXY, DNS, any of them or nothing. */
    private record FamilyRules(Family family, Optional<Plan> redirect, Optional<Divert> divert,
                               Optional<DnsRedirect> dns) {
    }

    private RulesetGenerator() {
    }

    /**
     * Generates the rules for a configuration.
     *
     * @param config       the validated configuration
     * @param backend      iptables commands or an nft ruleset
     * @param mode         this machine's connections, or those routed through it
     * @param lanInterface gateway mode: redirect only connections arriving on this interface (recommended)
     * @param ownerUid     local mode: the uid chainsocks runs as, whose connections are let through
     * @throws IllegalArgumentException when no rules can be made: local mode without mark or owner uid, no
     *                                  listener the mode can feed, an invalid interface name
     */
    public static Ruleset generate(ChainsocksConfig config, FirewallBackend backend, RedirectMode mode,
                                   Optional<String> lanInterface, OptionalInt ownerUid) {
        return generate(config, backend, mode, lanInterface, ownerUid, LISTENER_TRANSPORT);
    }

    /**
     * Generates the rules, with each listener's transport given by {@code transportOf}.
     *
     * @param transportOf which packets a listener receives
     */
    static Ruleset generate(ChainsocksConfig config, FirewallBackend backend, RedirectMode mode,
                            Optional<String> lanInterface, OptionalInt ownerUid,
                            Function<ListenerConfig, Transport> transportOf) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(mode, "mode");
        List<String> warnings = new ArrayList<>();
        lanInterface.ifPresent(name -> {
            if (!INTERFACE.matcher(name).matches()) {
                throw new IllegalArgumentException("invalid interface name \"" + name
                        + "\" (1..15 letters, digits, '_', '.', ':' or '-')");
            }
        });
        if (ownerUid.isPresent() && ownerUid.getAsInt() < 0) {
            throw new IllegalArgumentException("owner uid must not be negative: " + ownerUid.getAsInt());
        }
        OptionalLong mark = config.service().mark();
        if (mode == RedirectMode.LOCAL) {
            if (mark.isEmpty() && ownerUid.isEmpty()) {
                throw new IllegalArgumentException("local mode redirects this machine's own connections, including"
                        + " chainsocks' connections to its proxies, which would loop back to chainsocks; set"
                        + " service.mark (such as mark = 0x2a) in the configuration, or give the uid chainsocks runs"
                        + " as");
            }
            lanInterface.ifPresent(name -> warnings.add("the LAN interface " + name + " is ignored in local mode"));
        } else {
            ownerUid.ifPresent(uid -> warnings.add("the owner uid " + uid + " is ignored in gateway mode"));
            if (lanInterface.isEmpty()) {
                warnings.add("no LAN interface given: TCP connections arriving on every interface are redirected"
                        + (config.dns().isPresent() && config.firewall().redirectDns()
                        ? ", and DNS queries passing through on every interface are answered by [dns]" : ""));
            }
        }

        List<FamilyRules> families = new ArrayList<>();
        for (Family family : Family.values()) {
            Optional<Divert> divert = divert(config, family, transportOf, warnings);
            Optional<Plan> redirect = plan(config, family, mode, transportOf, warnings);
            if (redirect.isPresent() && divert.isPresent()
                    && divert.get().targets().stream().anyMatch(t -> t.transport() == Transport.TCP)) {
                Target tcp = divert.get().targets().stream().filter(t -> t.transport() == Transport.TCP)
                        .findFirst().orElseThrow();
                warnings.add(family.label + ": TCP goes to the tproxy [[listener]] #" + tcp.listenerNumber() + " "
                        + AddressSyntax.format(tcp.listener().listen()) + ", so [[listener]] #"
                        + redirect.get().listenerNumber() + " gets no REDIRECT rules");
                redirect = Optional.empty();
            }
            families.add(new FamilyRules(family, redirect, divert, dnsRedirect(config, family, mode, warnings)));
        }
        if (families.stream().allMatch(f -> f.redirect().isEmpty() && f.divert().isEmpty())) {
            throw new IllegalArgumentException("no [[listener]] with lookup = \"netfilter\" or \"tproxy\" (TCP or"
                    + " UDP) receives traffic that rules could send; REDIRECT or TPROXY rules need one (a UDP listener"
                    + " with lookup = \"fixed\" is addressed directly and needs no rule)");
        }

        List<String> distinct = warnings.stream().distinct().toList();
        String up = backend == FirewallBackend.IPTABLES
                ? iptablesUp(config, mode, lanInterface, ownerUid, families, distinct) + removeNftTables()
                : throughNft(routing(config, families), nftUp(config, mode, lanInterface, ownerUid, families, distinct))
                        + removeIptablesChains();
        String down = backend == FirewallBackend.IPTABLES
                ? iptablesDown() + removeNftTables()
                : throughNft("", nftDown()) + removeRouting() + removeIptablesChains();
        return new Ruleset(backend, mode, up, down, distinct);
    }

    /**
     * Where the family's DNS goes: with {@code [dns]} and {@code firewall.redirect-dns}, a listen address of the
     * family. Gateway mode needs one other machines' packets can be sent to (not loopback); local mode prefers
     * loopback.
     */
    private static Optional<DnsRedirect> dnsRedirect(ChainsocksConfig config, Family family, RedirectMode mode,
                                                     List<String> warnings) {
        if (config.dns().isEmpty() || !config.firewall().redirectDns()) {
            return Optional.empty();
        }
        List<InetSocketAddress> ofFamily = config.dns().get().listen().stream()
                .filter(a -> (a.getAddress() instanceof Inet6Address) == (family == Family.IPV6)).toList();
        Optional<InetSocketAddress> to = mode == RedirectMode.GATEWAY
                ? ofFamily.stream().filter(a -> !a.getAddress().isLoopbackAddress()).findFirst()
                : ofFamily.stream().filter(a -> a.getAddress().isLoopbackAddress()).findFirst()
                        .or(() -> ofFamily.stream().findFirst());
        if (to.isEmpty()) {
            warnings.add(family.label + ": [dns] listens on no " + family.label + " address"
                    + (mode == RedirectMode.GATEWAY && !ofFamily.isEmpty()
                    ? " but loopback, which packets from other machines cannot be sent to" : "")
                    + ", so " + family.label + " DNS (port " + DNS_PORT + ") is not redirected to it; add one to"
                    + " [dns] listen" + (mode == RedirectMode.GATEWAY ? " (the LAN address)" : "")
                    + ", or set firewall.redirect-dns = false to silence this");
            return Optional.empty();
        }
        return Optional.of(new DnsRedirect(family, to.get(), exemptions(config, family, warnings)));
    }

    private static Optional<Divert> divert(ChainsocksConfig config, Family family,
                                           Function<ListenerConfig, Transport> transportOf, List<String> warnings) {
        List<ListenerConfig> listeners = config.listeners();
        List<Target> targets = new ArrayList<>();
        for (Transport transport : Transport.values()) {
            for (int i = 0; i < listeners.size(); i++) {
                ListenerConfig listener = listeners.get(i);
                boolean receives = family == Family.IPV6 ? config.acceptsIpv6(listener)
                        : config.acceptsIpv4(listener);
                if (listener.lookup() == LookupKind.TPROXY && receives && transportOf.apply(listener) == transport) {
                    targets.add(new Target(transport, listener, i + 1));
                    break;
                }
            }
        }
        if (targets.stream().noneMatch(t -> t.transport() == Transport.UDP)) {
            // A [[listener]] with protocol = "udp": always TPROXY. Numbered after the TCP listeners.
            List<UdpListenerConfig> udp = config.udpListeners();
            for (int i = 0; i < udp.size(); i++) {
                if (udp.get(i).lookup() != LookupKind.TPROXY) {
                    continue; // lookup = "fixed": datagrams sent to the listener itself, no rule needed
                }
                ListenerConfig shape = new ListenerConfig(udp.get(i).listen(), LookupKind.TPROXY,
                        udp.get(i).chains(), ChainPolicy.FAILOVER, ListenerConfig.DEFAULT_FAILOVER_BACKOFF);
                boolean receives = family == Family.IPV6 ? config.acceptsIpv6(shape) : config.acceptsIpv4(shape);
                if (receives) {
                    targets.add(new Target(Transport.UDP, shape, listeners.size() + i + 1));
                    break;
                }
            }
        }
        return targets.isEmpty() ? Optional.empty()
                : Optional.of(new Divert(family, targets, exemptions(config, family, warnings)));
    }

    private static Optional<Plan> plan(ChainsocksConfig config, Family family, RedirectMode mode,
                                       Function<ListenerConfig, Transport> transportOf, List<String> warnings) {
        List<ListenerConfig> listeners = config.listeners();
        for (int i = 0; i < listeners.size(); i++) {
            ListenerConfig listener = listeners.get(i);
            boolean receives = family == Family.IPV6 ? config.acceptsIpv6(listener) : config.acceptsIpv4(listener);
            if (listener.lookup() != LookupKind.NETFILTER || !receives
                    || transportOf.apply(listener) != Transport.TCP) {
                continue;
            }
            if (!listener.isWildcard()) {
                boolean loopback = listener.listen().getAddress().isLoopbackAddress();
                if (mode == RedirectMode.LOCAL && !loopback) {
                    warnings.add(family.label + ": REDIRECT in local mode delivers to the loopback address, but"
                            + " [[listener]] #" + (i + 1) + " listens on " + AddressSyntax.format(listener.listen())
                            + "; listen on a wildcard or loopback address");
                } else if (mode == RedirectMode.GATEWAY) {
                    warnings.add(family.label + ": REDIRECT in gateway mode delivers to the primary address of the"
                            + " incoming interface, but [[listener]] #" + (i + 1) + " listens only on "
                            + AddressSyntax.format(listener.listen()));
                }
            }
            return Optional.of(new Plan(family, listener, i + 1, exemptions(config, family, warnings)));
        }
        return Optional.empty();
    }

    private static List<Exemption> exemptions(ChainsocksConfig config, Family family, List<String> warnings) {
        List<Exemption> out = new ArrayList<>();
        for (Cidr cidr : config.firewall().exempt()) {
            if (cidr.isIpv6() == (family == Family.IPV6)) {
                out.add(new Exemption(cidr.toString(), OptionalInt.empty(), ""));
            }
        }
        Map<String, Exemption> hops = new LinkedHashMap<>();
        for (ProxyChain chain : config.chains().values()) {
            if (chain.isDirect()) {
                continue;
            }
            ProxyHop first = chain.hops().get(0);
            if (first.address() instanceof Destination.Ip ip) {
                if (ip.isIpv6() == (family == Family.IPV6)) {
                    Cidr host = new Cidr(ip.address(), ip.address() instanceof Inet6Address ? 128 : 32);
                    String key = host + " " + ip.port();
                    hops.merge(key, new Exemption(host.toString(), OptionalInt.of(ip.port()),
                                    "first hop of chain " + chain.name()),
                            (a, b) -> new Exemption(a.network(), a.port(), a.comment() + ", " + chain.name()));
                }
            } else if (family == Family.IPV4) {
                warnings.add("the first hop " + first.address() + " of chain " + chain.name() + " is a name, which"
                        + " the rules do not resolve; add its addresses to firewall.exempt if connections to it must"
                        + " not be redirected");
            }
        }
        out.addAll(hops.values());
        return out;
    }

    private static String header(ChainsocksConfig config, FirewallBackend backend, RedirectMode mode, String what,
                                 List<String> warnings) {
        StringBuilder out = new StringBuilder();
        out.append("# chainsocks firewall rules, ").append(what).append(": ")
                .append(backend.name().toLowerCase(java.util.Locale.ROOT)).append(", ")
                .append(mode.name().toLowerCase(java.util.Locale.ROOT)).append(" mode\n");
        out.append("# Generated by `chainsocks rules` from ")
                .append(config.source().map(Object::toString).orElse("command-line flags"))
                .append("; generate them again when it changes.\n");
        for (String warning : warnings) {
            out.append("# warning: ").append(warning).append('\n');
        }
        return out.toString();
    }

    // ---- iptables ------------------------------------------------------------------------------------------------

    private static String iptablesUp(ChainsocksConfig config, RedirectMode mode, Optional<String> lanInterface,
                                     OptionalInt ownerUid, List<FamilyRules> families, List<String> warnings) {
        StringBuilder out = new StringBuilder("#!/bin/sh\n");
        out.append(header(config, FirewallBackend.IPTABLES, mode, "up", warnings));
        out.append("# Running it again replaces the rules; it never adds a second copy.\n");
        out.append("set -e\n");
        for (FamilyRules rules : families) {
            Family family = rules.family();
            rules.redirect().ifPresentOrElse(plan -> iptablesRedirect(out, config, mode, lanInterface, ownerUid, plan),
                    () -> {
                        out.append("\n# ").append(family.label).append(": no REDIRECT for ").append(family.label)
                                .append("; remove rules an earlier configuration left\n");
                        out.append(removeChain(family.iptables, "nat", CHAIN));
                    });
            rules.dns().ifPresentOrElse(dns -> iptablesDns(out, config, mode, lanInterface, ownerUid, dns),
                    () -> {
                        out.append("\n# ").append(family.label).append(": no DNS redirect for ").append(family.label)
                                .append("; remove rules an earlier configuration left\n");
                        out.append(removeChain(family.iptables, "nat", DNS_CHAIN));
                    });
        }
        out.append(routing(config, families));
        for (FamilyRules rules : families) {
            Family family = rules.family();
            if (rules.divert().isEmpty()) {
                out.append("\n# ").append(family.label).append(": no TPROXY for ").append(family.label)
                        .append("; remove rules an earlier configuration left\n");
                out.append(removeChain(family.iptables, "mangle", CHAIN));
                out.append(removeChain(family.iptables, "mangle", MARK_CHAIN));
            } else if (mode == RedirectMode.LOCAL) {
                // Marked packets come back on lo: only those are diverted; marking starts once diverting is there.
                iptablesDivert(out, config, Optional.of(LOOPBACK), rules.divert().get(), rules.dns().isPresent());
                iptablesMark(out, config, ownerUid, rules.divert().get());
            } else {
                iptablesDivert(out, config, lanInterface, rules.divert().get(), rules.dns().isPresent());
                out.append("# No marking of this machine's own packets in gateway mode.\n");
                out.append(removeChain(family.iptables, "mangle", MARK_CHAIN));
            }
        }
        return out.toString();
    }

    private static void iptablesRedirect(StringBuilder out, ChainsocksConfig config, RedirectMode mode,
                                         Optional<String> lanInterface, OptionalInt ownerUid, Plan plan) {
        String nat = plan.family().iptables + " -w -t nat ";
        String add = nat + "-A " + CHAIN + " ";
        out.append("\n# ").append(plan.family().label).append(": redirect TCP to [[listener]] #")
                .append(plan.listenerNumber()).append(' ').append(AddressSyntax.format(plan.listener().listen()))
                .append('\n');
        out.append(nat).append("-N ").append(CHAIN).append(" 2>/dev/null || ").append(nat).append("-F ")
                .append(CHAIN).append('\n');
        if (mode == RedirectMode.LOCAL) {
            ownExemptions(out, add, config, ownerUid);
        }
        iptablesReturns(out, add, plan.exemptions());
        out.append(add).append("-p tcp -j REDIRECT --to-ports ").append(plan.listener().listen().getPort())
                .append('\n');
        String jump = jump(mode, lanInterface);
        out.append("# Remove jumps from an earlier mode or interface, then add ours once.\n");
        out.append(removeJumps(plan.family().iptables, "nat", CHAIN, List.of(jump)));
        out.append(nat).append("-C ").append(jump).append(" 2>/dev/null || ").append(nat).append("-A ").append(jump)
                .append('\n');
    }

    /**
     * The DNS chain: the same exemptions as the REDIRECT chain, then UDP and TCP DNAT to {@code [dns]}. Jumped to
     * for port 53 only, and inserted first so that TCP port 53 never reaches the REDIRECT jump.
     */
    private static void iptablesDns(StringBuilder out, ChainsocksConfig config, RedirectMode mode,
                                    Optional<String> lanInterface, OptionalInt ownerUid, DnsRedirect dns) {
        Family family = dns.family();
        String nat = family.iptables + " -w -t nat ";
        String add = nat + "-A " + DNS_CHAIN + " ";
        out.append("\n# ").append(family.label).append(": DNS (UDP and TCP port ").append(DNS_PORT)
                .append(", to any server) to [dns] ").append(dns.target()).append('\n');
        out.append(nat).append("-N ").append(DNS_CHAIN).append(" 2>/dev/null || ").append(nat).append("-F ")
                .append(DNS_CHAIN).append('\n');
        if (mode == RedirectMode.LOCAL) {
            config.service().mark().ifPresent(mark -> out.append(add).append("-m mark --mark ")
                    .append(ServiceConfig.hex(mark)).append(" -j RETURN\n"));
            ownerUid.ifPresent(uid -> out.append(add).append("-m owner --uid-owner ").append(uid)
                    .append(" -j RETURN\n"));
        }
        iptablesReturns(out, add, dns.exemptions());
        for (Transport transport : Transport.values()) {
            out.append(add).append("-p ").append(transport.ruleName()).append(" -j DNAT --to-destination ")
                    .append(dns.target()).append('\n');
        }
        String chainOfHook = mode == RedirectMode.LOCAL ? "OUTPUT" : "PREROUTING";
        String hook = chainOfHook + (mode == RedirectMode.LOCAL ? "" : lanInterface.map(n -> " -i " + n).orElse(""));
        List<String> jumps = new ArrayList<>();
        for (Transport transport : Transport.values()) {
            String p = transport.ruleName();
            jumps.add(hook + " -p " + p + " -m " + p + " --dport " + DNS_PORT + " -j " + DNS_CHAIN);
        }
        out.append("# Remove jumps from an earlier mode or interface, then put ours first, before the ").append(CHAIN)
                .append(" jump.\n");
        out.append(removeJumps(family.iptables, "nat", DNS_CHAIN, jumps));
        for (String jump : jumps) {
            out.append(nat).append("-C ").append(jump).append(" 2>/dev/null || ").append(nat).append("-I ")
                    .append(chainOfHook).append(" 1").append(jump.substring(chainOfHook.length())).append('\n');
        }
    }

    private static void iptablesDivert(StringBuilder out, ChainsocksConfig config, Optional<String> lanInterface,
                                       Divert divert, boolean dns) {
        Family family = divert.family();
        String mangle = family.iptables + " -w -t mangle ";
        String add = mangle + "-A " + CHAIN + " ";
        String mark = ServiceConfig.hex(config.firewall().tproxyMark());
        out.append("\n# ").append(family.label).append(": TPROXY ")
                .append(String.join(", ", divert.targets().stream().map(Target::describe).toList()))
                .append(", marked ").append(mark).append('\n');
        out.append(mangle).append("-N ").append(CHAIN).append(" 2>/dev/null || ").append(mangle).append("-F ")
                .append(CHAIN).append('\n');
        iptablesReturns(out, add, divert.exemptions());
        if (dns) {
            out.append("# DNS is for the nat rules, which send it to [dns]\n");
            for (Transport transport : Transport.values()) {
                out.append(add).append("-p ").append(transport.ruleName()).append(" --dport ").append(DNS_PORT)
                        .append(" -j RETURN\n");
            }
        }
        for (Target target : divert.targets()) {
            out.append(add).append("-p ").append(target.transport().ruleName()).append(" -j TPROXY --on-port ")
                    .append(target.listener().listen().getPort()).append(" --on-ip ").append(target.onIp(family))
                    .append(" --tproxy-mark ").append(mark).append('/').append(mark).append('\n');
        }
        String jump = "PREROUTING" + lanInterface.map(name -> " -i " + name).orElse("") + " -j " + CHAIN;
        out.append("# Remove jumps from an earlier interface, then add ours once.\n");
        out.append(removeJumps(family.iptables, "mangle", CHAIN, List.of(jump)));
        out.append(mangle).append("-C ").append(jump).append(" 2>/dev/null || ").append(mangle).append("-A ")
                .append(jump).append('\n');
    }

    /**
     * Local mode: marks this machine's own packets of each TPROXY transport in mangle OUTPUT, so that the policy
     * routing entry for the mark sends them to lo and they come back through PREROUTING, where TPROXY hands them to
     * the listener. chainsocks' own packets (its mark or owner) and the destinations let through stay unmarked.
     */
    private static void iptablesMark(StringBuilder out, ChainsocksConfig config, OptionalInt ownerUid,
                                     Divert divert) {
        Family family = divert.family();
        String mangle = family.iptables + " -w -t mangle ";
        String add = mangle + "-A " + MARK_CHAIN + " ";
        String mark = ServiceConfig.hex(config.firewall().tproxyMark());
        out.append("\n# ").append(family.label).append(": mark this machine's own ")
                .append(String.join(" and ", divert.targets().stream().map(t -> t.transport().toString()).toList()))
                .append(" with ").append(mark).append(", routed back through PREROUTING to TPROXY\n");
        out.append(mangle).append("-N ").append(MARK_CHAIN).append(" 2>/dev/null || ").append(mangle).append("-F ")
                .append(MARK_CHAIN).append('\n');
        ownExemptions(out, add, config, ownerUid);
        iptablesReturns(out, add, divert.exemptions());
        for (Target target : divert.targets()) {
            out.append(add).append("-p ").append(target.transport().ruleName()).append(" -j MARK --set-mark ")
                    .append(mark).append('/').append(mark).append('\n');
        }
        String jump = "OUTPUT -j " + MARK_CHAIN;
        out.append(removeJumps(family.iptables, "mangle", MARK_CHAIN, List.of(jump)));
        out.append(mangle).append("-C ").append(jump).append(" 2>/dev/null || ").append(mangle).append("-A ")
                .append(jump).append('\n');
    }

    /** Local mode: chainsocks' own packets, by {@code service.mark} and by the owner uid, pass unchanged. */
    private static void ownExemptions(StringBuilder out, String add, ChainsocksConfig config, OptionalInt ownerUid) {
        OptionalLong mark = config.service().mark();
        if (mark.isPresent()) {
            out.append(add).append("-m mark --mark ").append(ServiceConfig.hex(mark.getAsLong()))
                    .append(" -j RETURN\n");
        }
        if (ownerUid.isPresent()) {
            out.append(add).append("-m owner --uid-owner ").append(ownerUid.getAsInt()).append(" -j RETURN\n");
        }
    }

    /** Local destinations, exempt networks and first hops pass through unchanged. */
    private static void iptablesReturns(StringBuilder out, String add, List<Exemption> exemptions) {
        out.append(add).append("-m addrtype --dst-type LOCAL -j RETURN\n");
        for (Exemption e : exemptions) {
            if (!e.comment().isEmpty()) {
                out.append("# ").append(e.comment()).append('\n');
            }
            out.append(add).append("-d ").append(e.network());
            e.port().ifPresent(port -> out.append(" -p tcp --dport ").append(port));
            out.append(" -j RETURN\n");
        }
    }

    /** The jump as {@code iptables -S} prints it, without {@code -A}. */
    private static String jump(RedirectMode mode, Optional<String> lanInterface) {
        if (mode == RedirectMode.LOCAL) {
            return "OUTPUT -p tcp -j " + CHAIN;
        }
        return "PREROUTING" + lanInterface.map(name -> " -i " + name).orElse("") + " -p tcp -j " + CHAIN;
    }

    /**
     * Deletes every jump to {@code chain} in {@code table} from OUTPUT and PREROUTING, except those in {@code keep}
     * (as {@code iptables -S} prints them, without {@code -A}).
     */
    private static String removeJumps(String command, String table, String chain, List<String> keep) {
        String t = command + " -w -t " + table + " ";
        String delete = t + "-D $rule || true";
        for (String rule : keep) {
            delete = "[ \"$rule\" = \"" + rule + "\" ] || " + delete;
        }
        return "for hook in OUTPUT PREROUTING; do\n"
                + "    " + t + "-S \"$hook\" 2>/dev/null | sed -n 's/^-A \\(.* -j " + chain + "\\)$/\\1/p' |\n"
                + "        while read -r rule; do " + delete + "; done\n"
                + "done\n";
    }

    private static String removeChain(String command, String table, String chain) {
        String t = command + " -w -t " + table + " ";
        return removeJumps(command, table, chain, List.of())
                + t + "-F " + chain + " 2>/dev/null || true\n"
                + t + "-X " + chain + " 2>/dev/null || true\n";
    }

    /** Every chain of ours in every table of a family: nat's and mangle's {@code CHAINSOCKS}, nat's DNS chain, mangle's mark chain. */
    private static String removeChains(String command) {
        return removeChain(command, "nat", CHAIN) + removeChain(command, "nat", DNS_CHAIN)
                + removeChain(command, "mangle", CHAIN) + removeChain(command, "mangle", MARK_CHAIN);
    }

    private static String iptablesDown() {
        StringBuilder out = new StringBuilder("#!/bin/sh\n");
        out.append("# chainsocks firewall rules, down: iptables\n");
        out.append("# Removes every jump to ").append(CHAIN).append(" and the ").append(CHAIN)
                .append(" chains (nat and mangle), ").append(DNS_CHAIN).append(" (nat) and ").append(MARK_CHAIN)
                .append(" (mangle), IPv4 and IPv6, whatever mode they\n")
                .append("# were added in, the TPROXY routing rules, and the nft backend's chainsocks tables; nothing")
                .append(" else.\n");
        for (Family family : Family.values()) {
            out.append("\n# ").append(family.label).append('\n').append(removeChains(family.iptables));
        }
        out.append(removeRouting());
        return out.toString();
    }

    // ---- policy routing for TPROXY -------------------------------------------------------------------------------

    /**
     * Removes the TPROXY routing entries an earlier run added (any mark, any table: they are found by their routing
     * protocol), then adds this configuration's for each family with TPROXY rules. Comes before the packet rules,
     * so that no packet is marked before marked packets are delivered locally.
     */
    private static String routing(ChainsocksConfig config, List<FamilyRules> families) {
        if (families.stream().allMatch(f -> f.divert().isEmpty())) {
            return removeRouting();
        }
        StringBuilder out = new StringBuilder();
        out.append("\n# Policy routing for TPROXY: packets with the mark are delivered to this host. Entries an")
                .append(" earlier\n# run added (routing protocol ").append(ROUTE_PROTOCOL)
                .append(") are replaced.\n");
        out.append(removeRouting(""));
        out.append('\n');
        String mark = ServiceConfig.hex(config.firewall().tproxyMark());
        long table = config.firewall().tproxyTable();
        for (FamilyRules rules : families) {
            if (rules.divert().isPresent()) {
                Family family = rules.family();
                out.append("ip ").append(family.ipOption).append(" rule add fwmark ").append(mark).append('/')
                        .append(mark).append(" lookup ").append(table).append(" protocol ").append(ROUTE_PROTOCOL)
                        .append('\n');
                out.append("ip ").append(family.ipOption).append(" route add local ").append(family.any)
                        .append("/0 dev lo table ").append(table).append(" proto ").append(ROUTE_PROTOCOL)
                        .append('\n');
            }
        }
        return out.toString();
    }

    /** For the down scripts and an up without TPROXY: the TPROXY routing entries, when {@code ip} is installed. */
    private static String removeRouting() {
        return "\n# The TPROXY policy routing entries (routing protocol " + ROUTE_PROTOCOL + "), whatever mark and"
                + " table.\nif command -v ip >/dev/null 2>&1; then\n" + removeRouting("    ") + "fi\n";
    }

    private static String removeRouting(String indent) {
        StringBuilder out = new StringBuilder();
        for (Family family : Family.values()) {
            out.append(indent).append("while ip ").append(family.ipOption).append(" rule del protocol ")
                    .append(ROUTE_PROTOCOL).append(" 2>/dev/null; do :; done\n");
            out.append(indent).append("ip ").append(family.ipOption).append(" route flush table all proto ")
                    .append(ROUTE_PROTOCOL).append(" || true\n");
        }
        return out.toString();
    }

    // ---- nft -----------------------------------------------------------------------------------------------------

    private static String nftUp(ChainsocksConfig config, RedirectMode mode, Optional<String> lanInterface,
                                OptionalInt ownerUid, List<FamilyRules> families, List<String> warnings) {
        StringBuilder out = new StringBuilder();
        out.append(header(config, FirewallBackend.NFT, mode, "up", warnings));
        out.append("# nft applies this as one transaction: all of it or none. Each table is declared,\n");
        out.append("# deleted and defined again, so applying it twice leaves one copy.\n");
        String hook = mode == RedirectMode.LOCAL ? "output" : "prerouting";
        for (FamilyRules rules : families) {
            Family family = rules.family();
            if (rules.redirect().isEmpty() && rules.divert().isEmpty() && rules.dns().isEmpty()) {
                out.append("\n# ").append(family.label).append(": no listener receives ").append(family.label)
                        .append("; remove a table an earlier configuration left\n");
                out.append(resetTable(family));
                continue;
            }
            out.append('\n');
            rules.redirect().ifPresent(plan -> out.append("# ").append(family.label)
                    .append(": redirect TCP to [[listener]] #").append(plan.listenerNumber()).append(' ')
                    .append(AddressSyntax.format(plan.listener().listen())).append('\n'));
            rules.divert().ifPresent(divert -> out.append("# ").append(family.label).append(": TPROXY ")
                    .append(String.join(", ", divert.targets().stream().map(Target::describe).toList()))
                    .append(", marked ").append(ServiceConfig.hex(config.firewall().tproxyMark())).append('\n'));
            rules.dns().ifPresent(dns -> out.append("# ").append(family.label).append(": DNS (UDP and TCP port ")
                    .append(DNS_PORT).append(", to any server) to [dns] ").append(dns.target()).append('\n'));
            out.append(resetTable(family));
            out.append("table ").append(family.nftFamily).append(" chainsocks {\n");
            rules.redirect().ifPresent(plan -> {
                out.append("    chain ").append(hook).append(" {\n");
                out.append("        type nat hook ").append(hook).append(" priority -100; policy accept;\n");
                out.append("        meta l4proto != tcp return\n");
                nftSourceReturns(out, config, mode, ownerUid, lanInterface);
                nftReturns(out, family, plan.exemptions());
                out.append("        meta l4proto tcp redirect to :").append(plan.listener().listen().getPort())
                        .append('\n');
                out.append("    }\n");
            });
            rules.dns().ifPresent(dns -> {
                // before the redirect chain (priority -100): the first nat chain to map a connection decides
                out.append("    chain dns {\n");
                out.append("        type nat hook ").append(hook).append(" priority -101; policy accept;\n");
                out.append("        meta l4proto != { tcp, udp } return\n");
                out.append("        th dport != ").append(DNS_PORT).append(" return\n");
                nftSourceReturns(out, config, mode, ownerUid, lanInterface);
                nftReturns(out, family, dns.exemptions());
                out.append("        meta l4proto { tcp, udp } dnat to ").append(dns.target()).append('\n');
                out.append("    }\n");
            });
            rules.divert().ifPresent(divert -> {
                String mark = ServiceConfig.hex(config.firewall().tproxyMark());
                out.append("    chain divert {\n");
                out.append("        type filter hook prerouting priority mangle; policy accept;\n");
                (mode == RedirectMode.LOCAL ? Optional.of(LOOPBACK) : lanInterface).ifPresent(name ->
                        out.append("        iifname != \"").append(name).append("\" return\n"));
                nftReturns(out, family, divert.exemptions());
                if (rules.dns().isPresent()) {
                    out.append("        # DNS is for the nat chain dns, which sends it to [dns]\n");
                    out.append("        meta l4proto { tcp, udp } th dport ").append(DNS_PORT).append(" return\n");
                }
                for (Target target : divert.targets()) {
                    String to = target.listener().isWildcard() ? ""
                            : family == Family.IPV6 ? "[" + target.onIp(family) + "]" : target.onIp(family);
                    out.append("        meta l4proto ").append(target.transport().ruleName())
                            .append(" meta mark set meta mark | ").append(mark).append(" tproxy to ").append(to)
                            .append(':').append(target.listener().listen().getPort()).append(" accept\n");
                }
                out.append("    }\n");
                if (mode == RedirectMode.LOCAL) {
                    out.append("    # This machine's own packets, marked, are routed back through prerouting above.\n");
                    out.append("    chain reroute {\n");
                    out.append("        type route hook output priority mangle; policy accept;\n");
                    nftOwnReturns(out, config, ownerUid);
                    nftReturns(out, family, divert.exemptions());
                    for (Target target : divert.targets()) {
                        out.append("        meta l4proto ").append(target.transport().ruleName())
                                .append(" meta mark set meta mark | ").append(mark).append('\n');
                    }
                    out.append("    }\n");
                }
            });
            out.append("}\n");
        }
        return out.toString();
    }

    /**
     * What a nat chain lets through by where it comes from: in local mode chainsocks' own packets, in gateway mode
     * whatever did not arrive on the LAN interface (when one is given).
     */
    private static void nftSourceReturns(StringBuilder out, ChainsocksConfig config, RedirectMode mode,
                                         OptionalInt ownerUid, Optional<String> lanInterface) {
        if (mode == RedirectMode.LOCAL) {
            nftOwnReturns(out, config, ownerUid);
        } else {
            lanInterface.ifPresent(name -> out.append("        iifname != \"").append(name).append("\" return\n"));
        }
    }

    /** chainsocks' own packets, by {@code service.mark} and the owner uid: the nft form of {@link #ownExemptions}. */
    private static void nftOwnReturns(StringBuilder out, ChainsocksConfig config, OptionalInt ownerUid) {
        config.service().mark().ifPresent(mark ->
                out.append("        meta mark ").append(ServiceConfig.hex(mark)).append(" return\n"));
        ownerUid.ifPresent(uid -> out.append("        meta skuid ").append(uid).append(" return\n"));
    }

    private static void nftReturns(StringBuilder out, Family family, List<Exemption> exemptions) {
        out.append("        fib daddr type local return\n");
        for (Exemption e : exemptions) {
            if (!e.comment().isEmpty()) {
                out.append("        # ").append(e.comment()).append('\n');
            }
            String address = e.port().isPresent() ? e.network().substring(0, e.network().indexOf('/'))
                    : e.network();
            out.append("        ").append(family.nftDaddr).append(' ').append(address);
            e.port().ifPresent(port -> out.append(" tcp dport ").append(port));
            out.append(" return\n");
        }
    }

    /**
     * Wraps an nft ruleset in a shell script that feeds it to {@code nft -f -}, so both backends' output is applied
     * the same way ({@code chainsocks rules ... | sh -e}) and nft still applies it as one transaction.
     */
    private static String throughNft(String prelude, String ruleset) {
        return "#!/bin/sh\nset -e\n" + prelude + "nft -f - <<'CHAINSOCKS_NFT'\n" + ruleset + "CHAINSOCKS_NFT\n";
    }

    private static String resetTable(Family family) {
        return "table " + family.nftFamily + " chainsocks\n" + "delete table " + family.nftFamily + " chainsocks\n";
    }

    // ---- the other backend ---------------------------------------------------------------------------------------

    /**
     * For the iptables scripts: removes tables {@code ip chainsocks} and {@code ip6 chainsocks} that the nft backend
     * left, after our own rules are in place (so there is no moment without redirection). Only those two tables;
     * nothing when nft is not installed or they are not there.
     */
    private static String removeNftTables() {
        return "\n# The nft backend's tables too, so that switching from --backend nft leaves no second set of\n"
                + "# rules: only tables ip chainsocks and ip6 chainsocks; nothing when nft is not installed or they\n"
                + "# are not there.\n"
                + "if command -v nft >/dev/null 2>&1; then\n"
                + "    for family in ip ip6; do\n"
                + "        if nft list table \"$family\" chainsocks >/dev/null 2>&1; then\n"
                + "            nft delete table \"$family\" chainsocks\n"
                + "        fi\n"
                + "    done\n"
                + "fi\n";
    }

    /**
     * For the nft scripts: removes the {@code CHAINSOCKS} chains and the jumps to them that the iptables backend
     * left, after our own table is in place. Only those; nothing when a tool is not installed or nothing is there.
     */
    private static String removeIptablesChains() {
        StringBuilder out = new StringBuilder("\n# The iptables backend's rules too, so that switching from")
                .append(" --backend iptables leaves no second\n# set: only the ").append(CHAIN)
                .append(" chains and the jumps to them; nothing when a tool is not installed\n")
                .append("# or nothing is there.\n");
        for (Family family : Family.values()) {
            out.append("if command -v ").append(family.iptables).append(" >/dev/null 2>&1; then\n");
            removeChains(family.iptables).lines()
                    .forEach(line -> out.append("    ").append(line).append('\n'));
            out.append("fi\n");
        }
        return out.toString();
    }

    private static String nftDown() {
        StringBuilder out = new StringBuilder();
        out.append("# chainsocks firewall rules, down: nft\n");
        out.append("# Removes tables ip chainsocks and ip6 chainsocks, if present, and below them the iptables\n");
        out.append("# backend's CHAINSOCKS chains; nothing else.\n");
        for (Family family : Family.values()) {
            out.append(resetTable(family));
        }
        return out.toString();
    }
}
