package dev.chainsocks.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Which targets would arrive at one of the server's own listeners. The host's interface addresses are a fixed set
 * here (192.0.2.10 and 2001:db8::10) so each row says exactly what it means; SelfConnectTest checks the same rule
 * against this machine's real interfaces.
 */
class OwnListenersTest {

    private static final Set<InetAddress> ASSIGNED = Set.of(ip("192.0.2.10"), ip("2001:db8::10"));

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetSocketAddress at(String literal, int port) {
        return new InetSocketAddress(ip(literal), port);
    }

    /** {@code ::ffff:a.b.c.d} kept as an IPv6 address, as some code paths may hand it over. */
    private static InetSocketAddress mapped(String ipv4, int port) {
        byte[] bytes = new byte[16];
        bytes[10] = (byte) 0xff;
        bytes[11] = (byte) 0xff;
        System.arraycopy(ip(ipv4).getAddress(), 0, bytes, 12, 4);
        try {
            return new InetSocketAddress(Inet6Address.getByAddress(null, bytes, -1), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static Stream<Arguments> targets() {
        List<InetSocketAddress> loopback = List.of(at("127.0.0.1", 1080));
        List<InetSocketAddress> specific = List.of(at("192.0.2.10", 1080));
        List<InetSocketAddress> any4 = List.of(at("0.0.0.0", 1080));
        List<InetSocketAddress> any6 = List.of(at("::", 1080));
        return Stream.of(
                Arguments.of(loopback, at("127.0.0.1", 1080), true),
                Arguments.of(loopback, at("127.0.0.1", 1081), false),
                Arguments.of(loopback, at("127.0.0.2", 1080), false),
                Arguments.of(loopback, at("0.0.0.0", 1080), true),
                Arguments.of(loopback, at("::", 1080), true),
                Arguments.of(loopback, mapped("127.0.0.1", 1080), true),
                Arguments.of(specific, at("192.0.2.10", 1080), true),
                Arguments.of(specific, mapped("192.0.2.10", 1080), true),
                Arguments.of(specific, at("127.0.0.1", 1080), false),
                Arguments.of(specific, at("192.0.2.10", 1081), false),
                Arguments.of(any4, at("127.0.0.1", 1080), true),
                Arguments.of(any4, at("127.0.0.2", 1080), true),
                Arguments.of(any4, at("192.0.2.10", 1080), true),
                Arguments.of(any4, mapped("192.0.2.10", 1080), true),
                Arguments.of(any4, at("192.0.2.11", 1080), false),
                Arguments.of(any4, at("192.0.2.10", 1081), false),
                Arguments.of(any4, at("::1", 1080), false),
                Arguments.of(any4, at("2001:db8::10", 1080), false),
                Arguments.of(any6, at("::1", 1080), true),
                Arguments.of(any6, at("2001:db8::10", 1080), true),
                Arguments.of(any6, at("127.0.0.5", 1080), true),
                Arguments.of(any6, at("192.0.2.10", 1080), true),
                Arguments.of(any6, at("2001:db8::11", 1080), false),
                Arguments.of(any6, at("198.51.100.1", 1080), false));
    }

    @ParameterizedTest(name = "listening on {0}, target {1}: {2}")
    @MethodSource("targets")
    void reachesOwnListener(List<InetSocketAddress> listeners, InetSocketAddress target, boolean ours) {
        OwnListeners own = new OwnListeners(listeners, ASSIGNED::contains);
        assertThat(own.reachedBy(target)).isEqualTo(ours ? Optional.of(listeners.get(0)) : Optional.empty());
    }

    @Test
    void namesTheListenerThatWouldBeReached() {
        List<InetSocketAddress> listeners = List.of(at("127.0.0.1", 1080), at("::1", 2080), at("0.0.0.0", 3080));
        OwnListeners own = new OwnListeners(listeners, ASSIGNED::contains);
        assertThat(own.reachedBy(at("::1", 2080))).contains(listeners.get(1));
        assertThat(own.reachedBy(at("192.0.2.10", 3080))).contains(listeners.get(2));
        assertThat(own.reachedBy(at("::1", 1080))).isEmpty();
        assertThat(own.reachedBy(at("127.0.0.1", 2080))).isEmpty();
    }

    @Test
    void theInterfaceLookupIsOnlyAskedAboutWildcardListenersPorts() {
        List<InetAddress> asked = new java.util.ArrayList<>();
        OwnListeners own = new OwnListeners(List.of(at("127.0.0.1", 1080), at("0.0.0.0", 3080)), address -> {
            asked.add(address);
            return false;
        });
        own.reachedBy(at("192.0.2.10", 1080));
        own.reachedBy(at("192.0.2.10", 443));
        own.reachedBy(at("127.0.0.9", 3080));
        assertThat(asked).as("loopback needs no lookup; other ports none at all").isEmpty();
        own.reachedBy(at("192.0.2.10", 3080));
        assertThat(asked).isEqualTo(Arrays.asList(ip("192.0.2.10")));
    }
}
