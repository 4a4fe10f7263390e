package dev.chainsocks.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.chain.HopProtocol;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedsocksImportTest {

    private static final Path FILE = Path.of("/etc/redsocks.conf");

    private static String resource(String name) throws IOException {
        try (InputStream in = RedsocksImportTest.class.getResourceAsStream("redsocks/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void parsesSectionsKeysCommentsAndQuotedStrings() throws Exception {
        RedsocksConf conf = RedsocksConf.parse("""
                // line comment
                base { log_info = on; /* block
                   comment */ log = "file:/var/log/x;y"; }
                redsocks{local_port=1;password="a\\"b\\\\c";}
                """, FILE);
        assertThat(conf.sections()).extracting(RedsocksConf.Section::name).containsExactly("base", "redsocks");
        assertThat(conf.sections().get(0).entries()).containsExactly(
                new RedsocksConf.Entry("log_info", "on", 2), new RedsocksConf.Entry("log", "file:/var/log/x;y", 3));
        assertThat(conf.sections().get(1).line()).isEqualTo(4);
        assertThat(conf.sections().get(1).get("password")).contains("a\"b\\c");
    }

    @Test
    void syntaxErrorsNameTheLine() {
        List<List<String>> cases = List.of(
                List.of("base {\n log = on\n}\n", "/etc/redsocks.conf:3: expected ';' after the value of log, found '}'"),
                List.of("base {\n log_info = on;\n", "/etc/redsocks.conf:1: section base is not closed with '}'"),
                List.of("\n\nredsocks { ip = \"1.2.3.4; }", "/etc/redsocks.conf:3: the string value of ip is not"
                        + " closed"),
                List.of("/* open\n", "/etc/redsocks.conf:1: comment /* is not closed with */"),
                List.of("base log = on;", "/etc/redsocks.conf:1: expected '{' after section name base, found 'l'"),
                List.of("base { = on; }", "/etc/redsocks.conf:1: expected a key or '}', found '='"));
        for (List<String> c : cases) {
            assertThatThrownBy(() -> RedsocksConf.parse(c.get(0), FILE)).as(c.get(0))
                    .isInstanceOf(ConfigException.class).hasMessageStartingWith(c.get(1));
        }
    }

    @Test
    void debiansShippedFileBecomesAConfigurationCheckAccepts() throws Exception {
        String toml = RedsocksImport.toToml(RedsocksConf.parse(resource("debian-redsocks.conf"), FILE));
        ChainsocksConfig config = ConfigLoader.parse(toml, Path.of("imported.toml"));
        assertThat(config.listeners()).singleElement().satisfies(l -> {
            assertThat(l.listen().toString()).isEqualTo("/127.0.0.1:12345");
            assertThat(l.lookup()).isEqualTo(LookupKind.NETFILTER);
            assertThat(l.chains()).containsExactly("redsocks-1");
        });
        assertThat(config.chain("redsocks-1").hops()).singleElement()
                .satisfies(hop -> assertThat(hop.uri(true)).isEqualTo("socks5://127.0.0.1:1080"));
        // redudp with dest_ip/dest_port: a UDP listener sending every datagram there, through its own chain.
        assertThat(config.udpListeners()).singleElement().satisfies(l -> {
            assertThat(l.listen()).isEqualTo(new InetSocketAddress("127.0.0.1", 10053));
            assertThat(l.lookup()).isEqualTo(LookupKind.FIXED);
            assertThat(l.destination()).contains(new InetSocketAddress("192.0.2.2", 53));
            assertThat(l.chains()).containsExactly("redudp-1");
            assertThat(l.flowIdle()).hasSeconds(30);
        });
        assertThat(config.chain("redudp-1").hops()).singleElement()
                .satisfies(hop -> assertThat(hop.uri(true)).isEqualTo("socks5://username:pazzw0rd@192.0.2.1:1080"));
        assertThat(toml).contains("""

                # redudp { } at /etc/redsocks.conf:58
                [[listener]]
                protocol = "udp"
                listen = "127.0.0.1:10053"
                lookup = "fixed"
                destination = "192.0.2.2:53"
                chains = ["redudp-1"]
                flow-idle-timeout = "30s"
                # redsocks: udp_timeout_stream = 180 (line 80): chainsocks has one flow-idle-timeout for every flow
                """);
        // Everything with no equivalent is named, with its line.
        assertThat(toml).contains("# redsocks: base daemon = on (line 16): systemd runs chainsocks in the foreground",
                "# redsocks: base user = redsocks (line 23)", "# redsocks: base log = syslog:daemon (line 13)",
                "# redsocks: dnstc { } at /etc/redsocks.conf:83 is not imported")
                .doesNotContain("is not imported: redudp");
    }

    @Test
    void aMultiSectionFileKeepsEverySectionInOrder() throws Exception {
        String toml = RedsocksImport.toToml(RedsocksConf.parse(resource("multi.conf"), FILE));
        ChainsocksConfig config = ConfigLoader.parse(toml, Path.of("imported.toml"));
        assertThat(config.service().logLevel().name()).isEqualTo("DEBUG");
        assertThat(config.service().maxConnections()).isEqualTo(5000);
        assertThat(config.timeouts().idle()).hasSeconds(7440);
        assertThat(config.timeouts().keepalive()).contains(new KeepaliveConfig(java.time.Duration.ofSeconds(60),
                KeepaliveConfig.DEFAULT_INTERVAL, KeepaliveConfig.DEFAULT_COUNT));
        assertThat(config.listeners()).hasSize(2);
        assertThat(config.udpListeners()).singleElement().satisfies(l -> assertThat(l.destination())
                .contains(new InetSocketAddress("192.0.2.2", 53)));
        assertThat(config.chain("redudp-1").hops().get(0).uri(true)).isEqualTo("socks5://198.18.9.1:1080");
        assertThat(config.listeners().get(0).onProxyFail()).isEqualTo(OnProxyFail.HTTP_ERROR);
        assertThat(config.listeners().get(1).onProxyFail()).isEqualTo(OnProxyFail.RESET);
        assertThat(config.listeners().get(0).discloseSource())
                .isEqualTo(dev.chainsocks.proto.http.DiscloseSource.X_FORWARDED_FOR);
        assertThat(config.chain("redsocks-1").hops().get(0).user()).contains("user@example");
        assertThat(config.chain("redsocks-1").hops().get(0).password()).contains("p a\"ss");
        assertThat(config.chain("redsocks-2").hops().get(0).protocol()).isEqualTo(HopProtocol.HTTP_RELAY);
        assertThat(config.chain("redsocks-2").hops().get(0).address().toString()).isEqualTo("proxy.example:3128");
        assertThat(toml).contains("listenq = 256 (line 30): not configurable",
                "disclose-src = \"x-forwarded-for\"",
                "# redudp { } at /etc/redsocks.conf:33\n", "dnstc { } at /etc/redsocks.conf:42")
                .doesNotContain("local_ip 0.0.0.0 receives");
    }

    @Test
    void valuesThatCannotCarryOverAreErrorsWithTheirLine() {
        assertThatThrownBy(() -> RedsocksImport.toToml(RedsocksConf.parse("""
                base { redsocks_conn_max = many; colour = red; }
                redsocks { local_port = 1; ip = 1.2.3.4; port = 1; type = socks6; }
                redsocks { local_port = 2; type = socks5; }
                redsocks { local_port = 3; ip = 1.2.3.4; port = 1; type = socks5; on_proxy_fail = retry; }
                mystery { }
                """, FILE))).isInstanceOf(ConfigException.class).hasMessage(String.join("\n",
                "/etc/redsocks.conf:1: redsocks_conn_max \"many\" is not a positive number",
                "/etc/redsocks.conf:1: unknown key \"colour\" in section base",
                "/etc/redsocks.conf:2: redsocks { } type \"socks6\" is not socks4, socks5, http-connect or http-relay",
                "/etc/redsocks.conf:3: redsocks { } without ip, port",
                "/etc/redsocks.conf:4: on_proxy_fail \"retry\" is not close or forward_http_err",
                "/etc/redsocks.conf:5: unknown section \"mystery\" (redsocks knows base, redsocks, redudp, dnstc and"
                        + " dnsu2t)"));
    }

    @Test
    void redudpWithoutADestinationIsATproxyListenerAndHalfADestinationIsAnError() throws Exception {
        String toml = RedsocksImport.toToml(RedsocksConf.parse("""
                redudp {
                	local_ip = fd00::1;
                	local_port = 10053;
                	ip = 2001:db8::1;
                	port = 1080;
                }
                redudp {
                	local_ip = 0.0.0.0;
                	local_port = 10054;
                	ip = 198.18.9.1;
                	port = 1080;
                	dest_ip = 2001:db8::53;
                	dest_port = 53;
                }
                """, FILE));
        ChainsocksConfig config = ConfigLoader.parse(toml, Path.of("imported.toml"));
        assertThat(config.listeners()).isEmpty();
        assertThat(config.udpListeners()).hasSize(2);
        assertThat(config.udpListeners().get(0).lookup()).isEqualTo(LookupKind.TPROXY);
        assertThat(config.udpListeners().get(0).listen()).isEqualTo(new InetSocketAddress("fd00::1", 10053));
        assertThat(config.chain("redudp-1").hops().get(0).uri(true)).isEqualTo("socks5://[2001:db8::1]:1080");
        assertThat(config.udpListeners().get(1).destination()).contains(new InetSocketAddress("2001:db8::53", 53));
        assertThat(toml).contains("destination = \"[2001:db8::53]:53\"\n", "# redsocks: no dest_ip: each"
                + " datagram's own destination, from TPROXY; chainsocks rules writes the TPROXY rules\n");

        assertThatThrownBy(() -> RedsocksImport.toToml(RedsocksConf.parse("""
                redudp { local_port = 1; ip = 1.2.3.4; port = 1; dest_ip = 192.0.2.2; }
                redudp { local_port = 2; ip = 1.2.3.4; port = 1; dest_port = 53; }
                redudp { local_port = 3; ip = 1.2.3.4; }
                redudp { local_port = 4; ip = 1.2.3.4; port = 1; login = me; }
                redudp { local_port = 5; ip = 1.2.3.4; port = 1; type = socks5; udp_timeout = never; }
                """, FILE))).isInstanceOf(ConfigException.class).hasMessage(String.join("\n",
                "/etc/redsocks.conf:1: redudp { } has dest_ip without dest_port; give both (one fixed destination)"
                        + " or neither (TPROXY)",
                "/etc/redsocks.conf:2: redudp { } has dest_port without dest_ip; give both (one fixed destination)"
                        + " or neither (TPROXY)",
                "/etc/redsocks.conf:3: redudp { } without port",
                "/etc/redsocks.conf:4: a socks5 login needs a password",
                "/etc/redsocks.conf:5: unknown key \"type\" in section redudp",
                "/etc/redsocks.conf:5: udp_timeout \"never\" is not a positive number"));
    }
}
