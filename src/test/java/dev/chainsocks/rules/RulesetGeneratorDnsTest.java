package dev.chainsocks.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.config.ChainsocksConfig;
import dev.chainsocks.config.ConfigLoader;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The port-53 rules {@code chainsocks rules} adds when {@code [dns]} is configured. */
class RulesetGeneratorDnsTest {

    private static final String BASE = """
            [service]
            mark = 0x2a
            [[listener]]
            listen = "[::]:12345"
            chains = ["main"]
            [chain.main]
            hops = ["socks5://198.18.1.2:1080"]
            """;
    private static final String DNS = """
            [dns]
            listen = ["127.0.0.53:53", "198.18.1.1:53", "[fd00:1::1]:53"]
            """;
    private static final String FIREWALL = "[firewall]\nexempt = [\"10.0.0.0/8\", \"fc00::/7\"]\n";

    private static ChainsocksConfig config(String... parts) throws Exception {
        return ConfigLoader.parse(String.join("\n", parts), Path.of("/etc/chainsocks/cs.toml"));
    }

    private static Ruleset generate(ChainsocksConfig config, FirewallBackend backend, RedirectMode mode, String lan,
                                    Integer uid) {
        return RulesetGenerator.generate(config, backend, mode, Optional.ofNullable(lan),
                uid == null ? OptionalInt.empty() : OptionalInt.of(uid));
    }

    @Test
    void iptablesGatewaySendsBothTransportsOfBothFamiliesToTheLanAddresses() throws Exception {
        Ruleset r = generate(config(BASE, FIREWALL, DNS), FirewallBackend.IPTABLES, RedirectMode.GATEWAY, "lan0",
                null);
        assertThat(r.warnings()).isEmpty();
        assertThat(r.up()).contains("""
                # IPv4: DNS (UDP and TCP port 53, to any server) to [dns] 198.18.1.1:53
                iptables -w -t nat -N CHAINSOCKS_DNS 2>/dev/null || iptables -w -t nat -F CHAINSOCKS_DNS
                iptables -w -t nat -A CHAINSOCKS_DNS -m addrtype --dst-type LOCAL -j RETURN
                iptables -w -t nat -A CHAINSOCKS_DNS -d 10.0.0.0/8 -j RETURN
                # first hop of chain main
                iptables -w -t nat -A CHAINSOCKS_DNS -d 198.18.1.2/32 -p tcp --dport 1080 -j RETURN
                iptables -w -t nat -A CHAINSOCKS_DNS -p tcp -j DNAT --to-destination 198.18.1.1:53
                iptables -w -t nat -A CHAINSOCKS_DNS -p udp -j DNAT --to-destination 198.18.1.1:53
                """, """
                [ "$rule" = "PREROUTING -i lan0 -p udp -m udp --dport 53 -j CHAINSOCKS_DNS" ] \
                || [ "$rule" = "PREROUTING -i lan0 -p tcp -m tcp --dport 53 -j CHAINSOCKS_DNS" ] \
                || iptables -w -t nat -D $rule || true; done
                """, """
                iptables -w -t nat -C PREROUTING -i lan0 -p udp -m udp --dport 53 -j CHAINSOCKS_DNS 2>/dev/null \
                || iptables -w -t nat -I PREROUTING 1 -i lan0 -p udp -m udp --dport 53 -j CHAINSOCKS_DNS
                """, """
                # IPv6: DNS (UDP and TCP port 53, to any server) to [dns] [fd00:1::1]:53
                ip6tables -w -t nat -N CHAINSOCKS_DNS 2>/dev/null || ip6tables -w -t nat -F CHAINSOCKS_DNS
                ip6tables -w -t nat -A CHAINSOCKS_DNS -m addrtype --dst-type LOCAL -j RETURN
                ip6tables -w -t nat -A CHAINSOCKS_DNS -d fc00::/7 -j RETURN
                ip6tables -w -t nat -A CHAINSOCKS_DNS -p tcp -j DNAT --to-destination [fd00:1::1]:53
                ip6tables -w -t nat -A CHAINSOCKS_DNS -p udp -j DNAT --to-destination [fd00:1::1]:53
                """, "ip6tables -w -t nat -I PREROUTING 1 -i lan0 -p tcp -m tcp --dport 53 -j CHAINSOCKS_DNS\n")
                .doesNotContain("127.0.0.53", "-m mark");
        // Inserted at the top, so TCP port 53 is DNATed before the CHAINSOCKS jump could redirect it.
        assertThat(r.up().lines().filter(l -> l.contains("-I PREROUTING 1"))).hasSize(4);
        assertThat(r.down()).contains("iptables -w -t nat -X CHAINSOCKS_DNS 2>/dev/null || true\n",
                "ip6tables -w -t nat -X CHAINSOCKS_DNS 2>/dev/null || true\n",
                "sed -n 's/^-A \\(.* -j CHAINSOCKS_DNS\\)$/\\1/p'");
    }

    @Test
    void withoutALanInterfaceTheWarningSaysDnsIsTakenEverywhere() throws Exception {
        assertThat(generate(config(BASE, FIREWALL, DNS), FirewallBackend.NFT, RedirectMode.GATEWAY, null, null)
                .warnings()).containsExactly("no LAN interface given: TCP connections arriving on every interface are"
                + " redirected, and DNS queries passing through on every interface are answered by [dns]");
    }

    @Test
    void localModeUsesOutputLoopbackAndLetsChainsocksOwnQueriesThrough() throws Exception {
        Ruleset r = generate(config(BASE, FIREWALL, DNS), FirewallBackend.IPTABLES, RedirectMode.LOCAL, null, 995);
        assertThat(r.up()).contains("""
                # IPv4: DNS (UDP and TCP port 53, to any server) to [dns] 127.0.0.53:53
                iptables -w -t nat -N CHAINSOCKS_DNS 2>/dev/null || iptables -w -t nat -F CHAINSOCKS_DNS
                iptables -w -t nat -A CHAINSOCKS_DNS -m mark --mark 0x2a -j RETURN
                iptables -w -t nat -A CHAINSOCKS_DNS -m owner --uid-owner 995 -j RETURN
                iptables -w -t nat -A CHAINSOCKS_DNS -m addrtype --dst-type LOCAL -j RETURN
                """, """
                iptables -w -t nat -C OUTPUT -p udp -m udp --dport 53 -j CHAINSOCKS_DNS 2>/dev/null \
                || iptables -w -t nat -I OUTPUT 1 -p udp -m udp --dport 53 -j CHAINSOCKS_DNS
                """, "ip6tables -w -t nat -A CHAINSOCKS_DNS -p udp -j DNAT --to-destination [fd00:1::1]:53\n")
                .doesNotContain("DNAT --to-destination 198.18.1.1:53");
    }

    @Test
    void nftHasADnsChainAheadOfTheRedirectChain() throws Exception {
        Ruleset r = generate(config(BASE, FIREWALL, DNS), FirewallBackend.NFT, RedirectMode.GATEWAY, "lan0", null);
        assertThat(r.up()).contains("""
                    chain dns {
                        type nat hook prerouting priority -101; policy accept;
                        meta l4proto != { tcp, udp } return
                        th dport != 53 return
                        iifname != "lan0" return
                        fib daddr type local return
                        ip daddr 10.0.0.0/8 return
                        # first hop of chain main
                        ip daddr 198.18.1.2 tcp dport 1080 return
                        meta l4proto { tcp, udp } dnat to 198.18.1.1:53
                    }
                """, "        meta l4proto { tcp, udp } dnat to [fd00:1::1]:53\n",
                "# IPv6: DNS (UDP and TCP port 53, to any server) to [dns] [fd00:1::1]:53\n");
        Ruleset local = generate(config(BASE, FIREWALL, DNS), FirewallBackend.NFT, RedirectMode.LOCAL, null, 995);
        assertThat(local.up()).contains("""
                        type nat hook output priority -101; policy accept;
                        meta l4proto != { tcp, udp } return
                        th dport != 53 return
                        meta mark 0x2a return
                        meta skuid 995 return
                        fib daddr type local return
                """, "dnat to 127.0.0.53:53\n");
        // The nft script removes the iptables backend's DNS chains too, and the down script only deletes tables.
        assertThat(r.up()).contains("ip6tables -w -t nat -X CHAINSOCKS_DNS 2>/dev/null || true\n");
    }

    @Test
    void redirectDnsFalseMakesNoDnsRulesAndRemovesOldOnes() throws Exception {
        ChainsocksConfig off = config(BASE, FIREWALL + "redirect-dns = false\n", DNS);
        for (FirewallBackend backend : FirewallBackend.values()) {
            Ruleset r = generate(off, backend, RedirectMode.GATEWAY, "lan0", null);
            assertThat(r.up()).as(backend.toString()).doesNotContain("DNAT", "dnat", "chain dns", "dport 53");
            assertThat(r.warnings()).isEmpty();
        }
        assertThat(generate(off, FirewallBackend.IPTABLES, RedirectMode.GATEWAY, "lan0", null).up())
                .contains("# IPv4: no DNS redirect for IPv4; remove rules an earlier configuration left\n",
                        "iptables -w -t nat -X CHAINSOCKS_DNS 2>/dev/null || true\n");
        // Without [dns] at all: the same.
        assertThat(generate(config(BASE, FIREWALL), FirewallBackend.IPTABLES, RedirectMode.GATEWAY, "lan0", null)
                .up()).doesNotContain("DNAT").contains("iptables -w -t nat -X CHAINSOCKS_DNS");
    }

    @Test
    void aFamilyWithoutAUsableListenAddressIsWarnedAndLeftAlone() throws Exception {
        ChainsocksConfig loopbackOnly = config(BASE, FIREWALL, "[dns]\nlisten = [\"127.0.0.53:53\"]\n");
        Ruleset gateway = generate(loopbackOnly, FirewallBackend.IPTABLES, RedirectMode.GATEWAY, "lan0", null);
        assertThat(gateway.warnings()).containsExactly(
                "IPv4: [dns] listens on no IPv4 address but loopback, which packets from other machines cannot be"
                        + " sent to, so IPv4 DNS (port 53) is not redirected to it; add one to [dns] listen (the LAN"
                        + " address), or set firewall.redirect-dns = false to silence this",
                "IPv6: [dns] listens on no IPv6 address, so IPv6 DNS (port 53) is not redirected to it; add one to"
                        + " [dns] listen (the LAN address), or set firewall.redirect-dns = false to silence this");
        assertThat(gateway.up()).doesNotContain("DNAT");
        Ruleset local = generate(loopbackOnly, FirewallBackend.IPTABLES, RedirectMode.LOCAL, null, null);
        assertThat(local.up()).contains("iptables -w -t nat -A CHAINSOCKS_DNS -p udp -j DNAT --to-destination"
                + " 127.0.0.53:53\n").doesNotContain("ip6tables -w -t nat -A CHAINSOCKS_DNS");
        assertThat(local.warnings()).singleElement().asString().startsWith("IPv6: [dns] listens on no IPv6 address");
    }

    @Test
    void tproxyChainsLetPort53ThroughToTheNatRules() throws Exception {
        String tproxy = BASE.replace("chains = [\"main\"]", "lookup = \"tproxy\"\nchains = [\"main\"]");
        ChainsocksConfig config = config(tproxy, FIREWALL, DNS);
        assertThat(generate(config, FirewallBackend.IPTABLES, RedirectMode.GATEWAY, "lan0", null).up()).contains("""
                # DNS is for the nat rules, which send it to [dns]
                iptables -w -t mangle -A CHAINSOCKS -p tcp --dport 53 -j RETURN
                iptables -w -t mangle -A CHAINSOCKS -p udp --dport 53 -j RETURN
                iptables -w -t mangle -A CHAINSOCKS -p tcp -j TPROXY""",
                "iptables -w -t nat -A CHAINSOCKS_DNS -p udp -j DNAT --to-destination 198.18.1.1:53\n");
        assertThat(generate(config, FirewallBackend.NFT, RedirectMode.GATEWAY, "lan0", null).up()).contains(
                "        # DNS is for the nat chain dns, which sends it to [dns]\n"
                        + "        meta l4proto { tcp, udp } th dport 53 return\n"
                        + "        meta l4proto tcp meta mark set", "    chain dns {\n");
    }
}
