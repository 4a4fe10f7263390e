package dev.chainsocks.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.config.DnsConfig;
import dev.chainsocks.syntax.Cidr;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FakeIpMapTest {

    final AtomicLong now = new AtomicLong(1_000_000_000L);

    FakeIpMap map(String v4, String v6, int max) {
        return new FakeIpMap(Cidr.parse(v4), Cidr.parse(v6), Duration.ofSeconds(60), max, now::get);
    }

    static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void aNameKeepsItsAddressAndTheAddressFindsTheName() throws Exception {
        FakeIpMap map = map("100.64.0.0/10", "64:ff9b:1::/48", 100);
        assertThat(map.assign("example.com", false)).contains(ip("100.64.0.1"));
        assertThat(map.assign("example.org", false)).contains(ip("100.64.0.2"));
        assertThat(map.assign("example.com", true)).contains(ip("64:ff9b:1::1"));
        assertThat(map.assign("example.com", false)).contains(ip("100.64.0.1"));
        assertThat(map.lookup(ip("100.64.0.2"))).isEqualTo(new FakeIpMap.Lookup.Mapped("example.org"));
        assertThat(map.lookup(ip("64:ff9b:1::1"))).isEqualTo(new FakeIpMap.Lookup.Mapped("example.com"));
        assertThat(map.lookup(ip("100.64.0.3"))).isEqualTo(new FakeIpMap.Lookup.Unmapped());
        assertThat(map.lookup(ip("198.18.0.1"))).isEqualTo(new FakeIpMap.Lookup.NotFake());
        assertThat(map.stats()).isEqualTo(new FakeIpMap.Stats(3, 100, 2, 1, 3, 0, 0));
    }

    @Test
    void anIpv4PoolSkipsItsNetworkAndBroadcastAddresses() throws Exception {
        FakeIpMap map = map("192.0.2.0/30", "64:ff9b:1::/126", 100);
        assertThat(map.assign("a", false)).contains(ip("192.0.2.1"));
        assertThat(map.assign("b", false)).contains(ip("192.0.2.2"));
        assertThat(map.assign("c", false)).as("two hosts in a /30, both young").isEmpty();
        assertThat(map.assign("a", true)).contains(ip("64:ff9b:1::1"));
        assertThat(map.assign("b", true)).contains(ip("64:ff9b:1::2"));
        assertThat(map.assign("c", true)).contains(ip("64:ff9b:1::3"));
        assertThat(map.stats().exhausted()).isEqualTo(1);
    }

    @Test
    void aFullPoolReusesTheLeastRecentlyUsedAddressOnlyAfterItsTtl() throws Exception {
        FakeIpMap map = map("192.0.2.0/29", "64:ff9b:1::/48", 3);
        map.assign("a", false);
        advance(Duration.ofSeconds(10));
        map.assign("b", false);
        map.assign("c", false);
        advance(Duration.ofSeconds(55));
        assertThat(map.assign("d", false)).as("a was answered 65 s ago but b and c are young: still a is oldest")
                .contains(ip("192.0.2.4"));
        assertThat(map.lookup(ip("192.0.2.1"))).isEqualTo(new FakeIpMap.Lookup.Unmapped());
        // a connection to c makes b the least recently used
        assertThat(map.lookup(ip("192.0.2.3"))).isEqualTo(new FakeIpMap.Lookup.Mapped("c"));
        assertThat(map.assign("e", false)).as("b is 55 s old, under the TTL").isEmpty();
        advance(Duration.ofSeconds(5));
        assertThat(map.assign("e", false)).contains(ip("192.0.2.5"));
        assertThat(map.lookup(ip("192.0.2.2"))).isEqualTo(new FakeIpMap.Lookup.Unmapped());
        assertThat(map.lookup(ip("192.0.2.3"))).isEqualTo(new FakeIpMap.Lookup.Mapped("c"));
        assertThat(map.stats().evicted()).isEqualTo(2);
        assertThat(map.stats().size()).isEqualTo(3);
    }

    @Test
    void theCursorWrapsAndSkipsAddressesStillInUse() throws Exception {
        FakeIpMap map = map("192.0.2.0/29", "64:ff9b:1::/48", 6); // hosts .1 to .6
        for (String name : List.of("a", "b", "c", "d", "e", "f")) {
            map.assign(name, false);
        }
        map.lookup(ip("192.0.2.1")); // a is used again: b becomes the oldest
        advance(Duration.ofMinutes(2));
        map.lookup(ip("192.0.2.1"));
        assertThat(map.assign("g", false)).as("b's address, the oldest mapping").contains(ip("192.0.2.2"));
        assertThat(map.lookup(ip("192.0.2.1"))).isEqualTo(new FakeIpMap.Lookup.Mapped("a"));
    }

    @Test
    void aReloadKeepsTheMappingsThatFitTheNewPools() throws Exception {
        FakeIpMap map = map("100.64.0.0/10", "64:ff9b:1::/48", 100);
        map.assign("kept.example", false);
        map.assign("gone.example", true);
        map.lookup(ip("100.64.0.1"));
        DnsConfig reloaded = new DnsConfig(List.of(new java.net.InetSocketAddress(ip("127.0.0.1"), 53)),
                Cidr.parse("100.64.0.0/16"), Cidr.parse("64:ff9b:2::/48"), Duration.ofSeconds(60), 10, List.of(),
                DnsConfig.Action.PROXY, Optional.empty(), Optional.empty(), Duration.ofSeconds(5));
        map.reconfigure(Optional.of(reloaded));
        FakeIpMap next = map;
        assertThat(next.lookup(ip("100.64.0.1"))).isEqualTo(new FakeIpMap.Lookup.Mapped("kept.example"));
        assertThat(next.lookup(ip("64:ff9b:1::1"))).isEqualTo(new FakeIpMap.Lookup.NotFake());
        assertThat(next.assign("kept.example", false)).contains(ip("100.64.0.1"));
        assertThat(next.assign("new.example", false)).as("the cursor skips the kept address").contains(ip("100.64.0.2"));
        assertThat(next.stats()).as("counters carry over").isEqualTo(new FakeIpMap.Stats(2, 10, 2, 0, 3, 0, 0));
        map.reconfigure(Optional.empty());
        assertThat(map.lookup(ip("100.64.0.1"))).isEqualTo(new FakeIpMap.Lookup.NotFake());
        assertThat(map.stats().size()).isZero();
    }

    @Test
    void aSmallerBoundKeepsTheMostRecentlyUsed() throws Exception {
        FakeIpMap map = map("100.64.0.0/10", "64:ff9b:1::/48", 100);
        map.assign("old", false);
        map.assign("newer", false);
        map.assign("newest", false);
        map.lookup(ip("100.64.0.1")); // old is used again: now the newest
        map.reconfigure(Optional.of(new DnsConfig(List.of(new java.net.InetSocketAddress(ip("127.0.0.1"), 53)),
                Cidr.parse("100.64.0.0/10"), Cidr.parse("64:ff9b:1::/48"), Duration.ofSeconds(60), 2, List.of(),
                DnsConfig.Action.PROXY, Optional.empty(), Optional.empty(), Duration.ofSeconds(5))));
        assertThat(map.lookup(ip("100.64.0.1"))).isEqualTo(new FakeIpMap.Lookup.Mapped("old"));
        assertThat(map.lookup(ip("100.64.0.2"))).isEqualTo(new FakeIpMap.Lookup.Unmapped());
        assertThat(map.lookup(ip("100.64.0.3"))).isEqualTo(new FakeIpMap.Lookup.Mapped("newest"));
    }
}
