package dev.chainsocks.rules;

import dev.chainsocks.chain.ProxyChain;
import dev.chainsocks.chain.ProxyHop;
import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ListenerConfig;
import dev.chainsocks.config.LookupKind;
import dev.chainsocks.config.ServiceConfig;
import dev.chainsocks.proto.Destination;
import dev.chainsocks.syntax.AddressSyntax;
import dev.chainsocks.syntax.Cidr;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * Writes the firewall rules that send TCP connections to chainsocks, from the same configuration the service
 * runs with, so the two cannot drift apart.
 *
 * <p>Per IP family there is one chain, {@code CHAINSOCKS} in table nat for iptables/ip6tables, or chain
 * {@code output} or {@code prerouting} in table {@code ip chainsocks} / {@code ip6 chainsocks} for nft, hooked
 * from nat OUTPUT
 * ({@link RedirectMode#LOCAL}) or nat PREROUTING, optionally only for one LAN interface
 * ({@link RedirectMode#GATEWAY}). In order, it lets through unchanged ({@code RETURN}):
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
 * IPv4, an IPv6 address for IPv6). A family no such listener receives gets no rules, and {@code up} removes
 * rules left in it by an earlier configuration. TPROXY listeners are not covered.
 *
 * <p>Both backends' scripts also remove the other backend's rules, and only chainsocks' own: the iptables
 * scripts delete tables {@code ip chainsocks} and {@code ip6 chainsocks}, the nft scripts the {@code CHAINSOCKS}
 * chains and the jumps to them. Switching {@code --backend} therefore never leaves the old rules in force beside
 * the new ones. {@code up} removes the other backend's rules after its own are in place, so connections are never
 * left unredirected in between; a tool that is not installed is skipped, since it cannot have rules.
 */
public final class RulesetGenerator {

    /** The iptables chain name; nft uses tables named {@code chainsocks}. */
    public static final String CHAIN = "CHAINSOCKS";

    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.:-]{1,15}");

    /** One IP family's tools and syntax. */
    private enum Family {
        IPV4("IPv4", "iptables", "ip", "ip daddr"),
        IPV6("IPv6", "ip6tables", "ip6", "ip6 daddr");

        final String label;
        final String iptables;
        final String nftFamily;
        final String nftDaddr;

        Family(String label, String iptables, String nftFamily, String nftDaddr) {
            this.label = label;
            this.iptables = iptables;
            this.nftFamily = nftFamily;
            this.nftDaddr = nftDaddr;
        }
    }

    /** A destination let through: a network, or one address and TCP port. */
    private record Exemption(String network, OptionalInt port, String comment) {
    }

    /** What one family's chain does. */
    private record Plan(Family family, ListenerConfig listener, int listenerNumber, List<Exemption> exemptions) {
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
     *                                  netfilter listener, an invalid interface name
     */
    public static Ruleset generate(ChainsocksConfig config, FirewallBackend backend, RedirectMode mode,
                                   Optional<String> lanInterface, OptionalInt ownerUid) {
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
                warnings.add("no LAN interface given: TCP connections arriving on every interface are redirected");
            }
        }

        List<ListenerConfig> listeners = config.listeners();
        for (int i = 0; i < listeners.size(); i++) {
            if (listeners.get(i).lookup() == LookupKind.TPROXY) {
                warnings.add("[[listener]] #" + (i + 1) + " " + AddressSyntax.format(listeners.get(i).listen())
                        + " uses tproxy, which these REDIRECT rules do not feed (TPROXY needs mangle rules and policy"
                        + " routing)");
            }
        }

        List<Plan> plans = new ArrayList<>();
        List<Family> unused = new ArrayList<>();
        for (Family family : Family.values()) {
            Optional<Plan> plan = plan(config, family, mode, warnings);
            plan.ifPresentOrElse(plans::add, () -> unused.add(family));
        }
        if (plans.isEmpty()) {
            throw new IllegalArgumentException("no [[listener]] with lookup = \"netfilter\"; REDIRECT rules need one");
        }

        String up = backend == FirewallBackend.IPTABLES
                ? iptablesUp(config, mode, lanInterface, ownerUid, plans, unused, warnings) + removeNftTables()
                : throughNft(nftUp(config, mode, lanInterface, ownerUid, plans, unused, warnings))
                        + removeIptablesChains();
        String down = backend == FirewallBackend.IPTABLES
                ? iptablesDown() + removeNftTables()
                : throughNft(nftDown()) + removeIptablesChains();
        return new Ruleset(backend, mode, up, down, warnings);
    }

    private static Optional<Plan> plan(ChainsocksConfig config, Family family, RedirectMode mode,
                                       List<String> warnings) {
        List<ListenerConfig> listeners = config.listeners();
        for (int i = 0; i < listeners.size(); i++) {
            ListenerConfig listener = listeners.get(i);
            boolean receives = family == Family.IPV6 ? config.acceptsIpv6(listener) : config.acceptsIpv4(listener);
            if (listener.lookup() != LookupKind.NETFILTER || !receives) {
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
                                     OptionalInt ownerUid, List<Plan> plans, List<Family> unused,
                                     List<String> warnings) {
        StringBuilder out = new StringBuilder("#!/bin/sh\n");
        out.append(header(config, FirewallBackend.IPTABLES, mode, "up", warnings));
        out.append("# Running it again replaces the rules; it never adds a second copy.\n");
        out.append("set -e\n");
        for (Plan plan : plans) {
            String nat = plan.family().iptables + " -w -t nat ";
            String add = nat + "-A " + CHAIN + " ";
            out.append("\n# ").append(plan.family().label).append(": redirect TCP to [[listener]] #")
                    .append(plan.listenerNumber()).append(' ').append(AddressSyntax.format(plan.listener().listen()))
                    .append('\n');
            out.append(nat).append("-N ").append(CHAIN).append(" 2>/dev/null || ").append(nat).append("-F ")
                    .append(CHAIN).append('\n');
            if (mode == RedirectMode.LOCAL) {
                OptionalLong mark = config.service().mark();
                if (mark.isPresent()) {
                    out.append(add).append("-m mark --mark ").append(ServiceConfig.hex(mark.getAsLong()))
                            .append(" -j RETURN\n");
                }
                if (ownerUid.isPresent()) {
                    out.append(add).append("-m owner --uid-owner ").append(ownerUid.getAsInt()).append(" -j RETURN\n");
                }
            }
            out.append(add).append("-m addrtype --dst-type LOCAL -j RETURN\n");
            for (Exemption e : plan.exemptions()) {
                if (!e.comment().isEmpty()) {
                    out.append("# ").append(e.comment()).append('\n');
                }
                out.append(add).append("-d ").append(e.network());
                e.port().ifPresent(port -> out.append(" -p tcp --dport ").append(port));
                out.append(" -j RETURN\n");
            }
            out.append(add).append("-p tcp -j REDIRECT --to-ports ").append(plan.listener().listen().getPort())
                    .append('\n');
            String jump = jump(mode, lanInterface);
            out.append("# Remove jumps from an earlier mode or interface, then add ours once.\n");
            out.append(removeJumps(plan.family().iptables, jump));
            out.append(nat).append("-C ").append(jump).append(" 2>/dev/null || ").append(nat).append("-A ").append(jump)
                    .append('\n');
        }
        for (Family family : unused) {
            out.append("\n# ").append(family.label).append(": no netfilter listener receives ").append(family.label)
                    .append("; remove rules an earlier configuration left\n");
            out.append(removeChain(family.iptables));
        }
        return out.toString();
    }

    /** The jump as {@code iptables -S} prints it, without {@code -A}. */
    private static String jump(RedirectMode mode, Optional<String> lanInterface) {
        if (mode == RedirectMode.LOCAL) {
            return "OUTPUT -p tcp -j " + CHAIN;
        }
        return "PREROUTING" + lanInterface.map(name -> " -i " + name).orElse("") + " -p tcp -j " + CHAIN;
    }

    /** Deletes every jump to our chain from OUTPUT and PREROUTING, except {@code keep} (null: all). */
    private static String removeJumps(String command, String keep) {
        String nat = command + " -w -t nat ";
        String delete = nat + "-D $rule || true";
        if (keep != null) {
            delete = "[ \"$rule\" = \"" + keep + "\" ] || " + delete;
        }
        return "for hook in OUTPUT PREROUTING; do\n"
                + "    " + nat + "-S \"$hook\" 2>/dev/null | sed -n 's/^-A \\(.* -j " + CHAIN + "\\)$/\\1/p' |\n"
                + "        while read -r rule; do " + delete + "; done\n"
                + "done\n";
    }

    private static String removeChain(String command) {
        String nat = command + " -w -t nat ";
        return removeJumps(command, null)
                + nat + "-F " + CHAIN + " 2>/dev/null || true\n"
                + nat + "-X " + CHAIN + " 2>/dev/null || true\n";
    }

    private static String iptablesDown() {
        StringBuilder out = new StringBuilder("#!/bin/sh\n");
        out.append("# chainsocks firewall rules, down: iptables\n");
        out.append("# Removes every jump to ").append(CHAIN).append(" and the ").append(CHAIN)
                .append(" chains, IPv4 and IPv6, whatever mode they were added in,\n")
                .append("# and the nft backend's chainsocks tables; nothing else.\n");
        for (Family family : Family.values()) {
            out.append("\n# ").append(family.label).append('\n').append(removeChain(family.iptables));
        }
        return out.toString();
    }

    // ---- nft -----------------------------------------------------------------------------------------------------

    private static String nftUp(ChainsocksConfig config, RedirectMode mode, Optional<String> lanInterface,
                                OptionalInt ownerUid, List<Plan> plans, List<Family> unused, List<String> warnings) {
        StringBuilder out = new StringBuilder();
        out.append(header(config, FirewallBackend.NFT, mode, "up", warnings));
        out.append("# nft applies this as one transaction: all of it or none. Each table is declared,\n");
        out.append("# deleted and defined again, so applying it twice leaves one copy.\n");
        String hook = mode == RedirectMode.LOCAL ? "output" : "prerouting";
        for (Plan plan : plans) {
            Family family = plan.family();
            out.append("\n# ").append(family.label).append(": redirect TCP to [[listener]] #")
                    .append(plan.listenerNumber()).append(' ').append(AddressSyntax.format(plan.listener().listen()))
                    .append('\n');
            out.append(resetTable(family));
            out.append("table ").append(family.nftFamily).append(" chainsocks {\n");
            out.append("    chain ").append(hook).append(" {\n");
            out.append("        type nat hook ").append(hook).append(" priority -100; policy accept;\n");
            out.append("        meta l4proto != tcp return\n");
            if (mode == RedirectMode.LOCAL) {
                config.service().mark().ifPresent(mark ->
                        out.append("        meta mark ").append(ServiceConfig.hex(mark)).append(" return\n"));
                ownerUid.ifPresent(uid -> out.append("        meta skuid ").append(uid).append(" return\n"));
            } else {
                lanInterface.ifPresent(name ->
                        out.append("        iifname != \"").append(name).append("\" return\n"));
            }
            out.append("        fib daddr type local return\n");
            for (Exemption e : plan.exemptions()) {
                if (!e.comment().isEmpty()) {
                    out.append("        # ").append(e.comment()).append('\n');
                }
                String address = e.port().isPresent() ? e.network().substring(0, e.network().indexOf('/'))
                        : e.network();
                out.append("        ").append(family.nftDaddr).append(' ').append(address);
                e.port().ifPresent(port -> out.append(" tcp dport ").append(port));
                out.append(" return\n");
            }
            out.append("        meta l4proto tcp redirect to :").append(plan.listener().listen().getPort())
                    .append('\n');
            out.append("    }\n}\n");
        }
        for (Family family : unused) {
            out.append("\n# ").append(family.label).append(": no netfilter listener receives ").append(family.label)
                    .append("; remove a table an earlier configuration left\n");
            out.append(resetTable(family));
        }
        return out.toString();
    }

    /**
     * Wraps an nft ruleset in a shell script that feeds it to {@code nft -f -}, so both backends' output is applied
     * the same way ({@code chainsocks rules ... | sh -e}) and nft still applies it as one transaction.
     */
    private static String throughNft(String ruleset) {
        return "#!/bin/sh\nset -e\nnft -f - <<'CHAINSOCKS_NFT'\n" + ruleset + "CHAINSOCKS_NFT\n";
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
            removeChain(family.iptables).lines().forEach(line -> out.append("    ").append(line).append('\n'));
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
