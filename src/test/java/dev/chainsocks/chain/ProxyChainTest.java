package dev.chainsocks.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyChainTest {

    private static ProxyChain chain(String... uris) {
        return new ProxyChain("main", List.of(uris).stream().map(ProxyHop::parse).toList());
    }

    @Test
    void printsHopsWithPasswordsHidden() {
        assertThat(chain("socks5://u:pw@a.example:1080", "http://b.example:3128"))
                .hasToString("main[socks5://u:***@a.example:1080 -> http://b.example:3128]");
    }

    @Test
    void emptyChainIsDirect() {
        ProxyChain direct = new ProxyChain("lan", List.of());
        assertThat(direct.isDirect()).isTrue();
        assertThat(direct).hasToString("lan[direct]");
        assertThat(direct.problems(true)).isEmpty();
    }

    @Test
    void socks4CannotCarryANameToTheNextHop() {
        assertThat(chain("socks5://a.example:1080", "socks4://b.example:1080", "socks5://proxy2.example:1080")
                .problems(false))
                .containsExactly("hop 2 socks4://b.example:1080 cannot carry the name proxy2.example:1080 to hop 3;"
                        + " use socks4a:// or socks5://");
    }

    @Test
    void socks4aCarriesNamesButNotIpv6() {
        ProxyChain c = chain("socks4a://a.example:1080", "socks5://b.example:1080", "socks4a://c.example:1080",
                "http://[2001:db8::2]:3128");
        assertThat(c.problems(false)).containsExactly("hop 3 socks4a://c.example:1080 cannot carry the IPv6 address"
                + " [2001:db8::2]:3128 to hop 4; use socks5:// or http://");
    }

    @Test
    void lastHopMustCarryIpv6OnlyWhenTheListenerAcceptsIpv6() {
        ProxyChain c = chain("socks5://a.example:1080", "socks4://198.18.0.1:1080");
        assertThat(c.problems(false)).isEmpty();
        assertThat(c.problems(true)).singleElement().asString()
                .startsWith("hop 2 socks4://198.18.0.1:1080 is the last hop and cannot carry IPv6 destinations");
    }

    @Test
    void soundChainHasNoProblems() {
        assertThat(chain("socks4://198.18.0.1:1080", "socks4a://198.18.0.2:1080", "socks5h://b.example:1080",
                "http://[2001:db8::1]:80")
                .problems(true)).isEmpty();
    }
}
