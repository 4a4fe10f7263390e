package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.syntax.Cidr;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server refuses to become an open proxy: a listener on a non-loopback address needs users, an allow-from
 * list or an explicit open flag. Nothing here binds a non-loopback address: a refused start throws before it
 * binds, and the accepted configurations are only checked.
 */
@Timeout(10)
class OpenProxySafetyTest {

    private static SocksServerConfig listeningOn(String... hosts) {
        return SocksServerConfig.loopback().withListen(
                java.util.Arrays.stream(hosts).map(host -> new InetSocketAddress(host, 0)).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "::"})
    void startOnAWildcardWithoutUsersOrAllowFromIsRefusedWithAdvice(String host) {
        assertThatThrownBy(() -> SocksServer.start(listeningOn(host)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("refusing to run an open proxy")
                .hasMessageContaining("--user NAME:PASSWORD")
                .hasMessageContaining("--allow-from CIDR")
                .hasMessageContaining("--open");
    }

    @Test
    void oneNonLoopbackListenerAmongLoopbackOnesIsEnoughToRefuse() {
        assertThatThrownBy(() -> SocksServer.start(listeningOn("127.0.0.1", "0.0.0.0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0.0.0.0:0");
    }

    @Test
    void anyOfUsersAllowFromOrOpenMakesAWildcardListenerAcceptable() {
        assertThatCode(() -> listeningOn("0.0.0.0").withOpen(true).checkSafe()).doesNotThrowAnyException();
        assertThatCode(() -> listeningOn("0.0.0.0").withUsers(UserList.of(List.of("alice:s3cret"))).checkSafe())
                .doesNotThrowAnyException();
        assertThatCode(() -> listeningOn("::").withAllowFrom(List.of(Cidr.parse("192.168.0.0/16"))).checkSafe())
                .doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.0.0.2", "::1"})
    void loopbackNeedsNothing(String host) {
        assertThatCode(() -> listeningOn(host).checkSafe()).doesNotThrowAnyException();
    }
}
