package dev.chainsocks.dns;

import dev.chainsocks.config.DnsConfig;
import dev.chainsocks.syntax.Cidr;
import java.math.BigInteger;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The fake-IP table: which name each pool address stands for. The DNS server {@link #assign}s addresses when it
 * answers; a redirected connection to a pool address {@link #lookup}s the name to dial instead.
 *
 * <p>Bounds: at most {@code maxEntries} mappings, and no more than a pool holds. When a new name needs a slot,
 * the least recently used mapping goes, but only once it has not been used (answered or connected to) for
 * {@code ttl}: a client may still hold that answer in its cache until then, and reusing the address would send it
 * to another name. If every mapping is younger, the new name gets no address and the server answers SERVFAIL.
 *
 * <p>Shared by the DNS server's loop and every redirecting loop; each method is one short critical section.
 */
public final class FakeIpMap {

    /** What a pool address stands for. */
    public sealed interface Lookup permits Lookup.NotFake, Lookup.Mapped, Lookup.Unmapped {
        /** The address is not in a pool: dial it as it is. */
        record NotFake() implements Lookup {
        }

        /** The address stands for this name. */
        record Mapped(String name) implements Lookup {
        }

        /** A pool address with no mapping (expired and reused, or from before a restart): it cannot be dialed. */
        record Unmapped() implements Lookup {
        }
    }

    /** Counters for {@code status} and metrics. */
    public record Stats(int size, int maxEntries, long hits, long misses, long assigned, long evicted,
                        long exhausted) {
    }

    private static final class Entry {
        final String name;
        final InetAddress address;
        long lastUsedNanos;

        Entry(String name, InetAddress address, long lastUsedNanos) {
            this.name = name;
            this.address = address;
            this.lastUsedNanos = lastUsedNanos;
        }
    }

    /** One family's pool: a network and a cursor that hands out its host addresses in turn. */
    private static final class Pool {
        final Cidr network;
        final BigInteger base;
        final BigInteger first;
        final BigInteger hosts;
        final int bytes;
        BigInteger cursor = BigInteger.ZERO;
        int used;

        Pool(Cidr network) {
            this.network = network;
            this.bytes = network.network().getAddress().length;
            int hostBits = bytes * 8 - network.prefixLength();
            BigInteger size = BigInteger.ONE.shiftLeft(hostBits);
            this.base = new BigInteger(1, network.network().getAddress());
            // IPv4: skip the network and broadcast addresses, which some stacks refuse to connect to.
            // IPv6: skip only the subnet-router anycast address (all host bits zero).
            this.first = BigInteger.ONE;
            this.hosts = bytes == 4 ? size.subtract(BigInteger.TWO) : size.subtract(BigInteger.ONE);
        }

        /** How many mappings this pool can hold, capped at {@code max}. */
        int capacity(int max) {
            return hosts.min(BigInteger.valueOf(max)).intValue();
        }

        InetAddress next() {
            BigInteger offset = first.add(cursor);
            cursor = cursor.add(BigInteger.ONE).mod(hosts);
            byte[] raw = base.add(offset).toByteArray();
            byte[] address = new byte[bytes];
            int copy = Math.min(raw.length, bytes);
            System.arraycopy(raw, raw.length - copy, address, bytes - copy, copy);
            try {
                return InetAddress.getByAddress(address);
            } catch (UnknownHostException e) {
                throw new AssertionError("4 or 16 bytes are always an address", e);
            }
        }
    }

    /** Null while no {@code [dns]} table is configured: then no address is fake. */
    private Pool v4;
    private Pool v6;
    private long ttlNanos;
    private int maxEntries;
    private final LongSupplier clock;
    /** Keyed by family and canonical name; iteration order is least recently used first. */
    private final LinkedHashMap<String, Entry> byName = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<InetAddress, Entry> byAddress = new HashMap<>();
    private long hits;
    private long misses;
    private long assigned;
    private long evicted;
    private long exhausted;

    /** A map with these pools and bounds on the given clock (tests). */
    public FakeIpMap(Cidr ipv4, Cidr ipv6, Duration ttl, int maxEntries, LongSupplier clock) {
        if (ipv4.isIpv6() || !ipv6.isIpv6()) {
            throw new IllegalArgumentException("pools must be one IPv4 and one IPv6 network: " + ipv4 + ", " + ipv6);
        }
        this.v4 = new Pool(ipv4);
        this.v6 = new Pool(ipv6);
        this.ttlNanos = ttl.toNanos();
        this.maxEntries = maxEntries;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    private FakeIpMap(LongSupplier clock) {
        this.clock = clock;
    }

    /** The map a configuration asks for, on the system clock; without {@code [dns]}, one where nothing is fake. */
    public static FakeIpMap of(Optional<DnsConfig> config) {
        FakeIpMap map = new FakeIpMap(System::nanoTime);
        map.reconfigure(config);
        return map;
    }

    /**
     * Applies a reloaded configuration in place: the mappings that still fit the new pools stay, the most recently
     * used first when the new bound is smaller, and so do the counters. Connections already told a fake address
     * keep reaching their name across a reload. Without {@code [dns]} every mapping goes and nothing is fake.
     */
    public synchronized void reconfigure(Optional<DnsConfig> config) {
        Entry[] entries = byName.values().toArray(new Entry[0]);
        byName.clear();
        byAddress.clear();
        if (config.isEmpty()) {
            v4 = null;
            v6 = null;
            return;
        }
        DnsConfig dns = config.get();
        boolean samePools = v4 != null && v4.network.equals(dns.fakeIpv4()) && v6.network.equals(dns.fakeIpv6());
        Pool nextV4 = samePools ? v4 : new Pool(dns.fakeIpv4());
        Pool nextV6 = samePools ? v6 : new Pool(dns.fakeIpv6());
        nextV4.used = 0;
        nextV6.used = 0;
        v4 = nextV4;
        v6 = nextV6;
        ttlNanos = dns.ttl().toNanos();
        maxEntries = dns.maxEntries();
        List<Entry> kept = new ArrayList<>();
        for (int i = entries.length - 1; i >= 0 && kept.size() < maxEntries; i--) { // newest first
            Entry e = entries[i];
            Pool pool = poolFor(e.address);
            if (pool.network.contains(e.address) && pool.used < pool.capacity(maxEntries)) {
                kept.add(e);
                pool.used++;
            }
        }
        v4.used = 0;
        v6.used = 0;
        for (int i = kept.size() - 1; i >= 0; i--) { // oldest first, so the LRU order is kept
            Entry e = kept.get(i);
            put(e.name, e.address, e.lastUsedNanos, poolFor(e.address));
        }
    }

    /**
     * The fake address for a name, the one it already has or a new one.
     *
     * @param canonicalName the name in canonical form ({@code DnsName.canonical})
     * @param ipv6          AAAA (true) or A (false)
     * @return empty when the pool or the bound is full of mappings younger than the TTL
     */
    public synchronized Optional<InetAddress> assign(String canonicalName, boolean ipv6) {
        long now = clock.getAsLong();
        Entry existing = byName.get(key(canonicalName, ipv6));
        if (existing != null) {
            existing.lastUsedNanos = now;
            return Optional.of(existing.address);
        }
        if (v4 == null) {
            throw new IllegalStateException("no [dns] pools are configured");
        }
        Pool pool = ipv6 ? v6 : v4;
        while (byName.size() >= maxEntries || pool.used >= pool.capacity(maxEntries)) {
            if (!evictOldest(now, byName.size() >= maxEntries ? null : ipv6)) {
                exhausted++;
                return Optional.empty();
            }
        }
        InetAddress address;
        do {
            address = pool.next();
        } while (byAddress.containsKey(address));
        put(canonicalName, address, now, pool);
        assigned++;
        return Optional.of(address);
    }

    /** What an address stands for; a mapped address counts as used now. */
    public synchronized Lookup lookup(InetAddress address) {
        if (!inPool(address)) {
            return new Lookup.NotFake();
        }
        Entry entry = byAddress.get(address);
        if (entry == null) {
            misses++;
            return new Lookup.Unmapped();
        }
        hits++;
        entry.lastUsedNanos = clock.getAsLong();
        byName.get(key(entry.name, address instanceof Inet6Address)); // refresh its LRU place
        return new Lookup.Mapped(entry.name);
    }

    /**
     * The name a pool address stands for, to answer a reverse lookup; unlike {@link #lookup} it is not a use of the
     * mapping and counts as neither hit nor miss.
     */
    public synchronized Optional<String> nameOf(InetAddress address) {
        Entry entry = inPool(address) ? byAddress.get(address) : null;
        return entry == null ? Optional.empty() : Optional.of(entry.name);
    }

    /** Whether the address lies in one of the pools. */
    public synchronized boolean inPool(InetAddress address) {
        return v4 != null && (v4.network.contains(address) || v6.network.contains(address));
    }

    public synchronized Stats stats() {
        return new Stats(byName.size(), maxEntries, hits, misses, assigned, evicted, exhausted);
    }

    private Pool poolFor(InetAddress address) {
        return address instanceof Inet6Address ? v6 : v4;
    }

    private void put(String name, InetAddress address, long lastUsed, Pool pool) {
        Entry entry = new Entry(name, address, lastUsed);
        byName.put(key(name, address instanceof Inet6Address), entry);
        byAddress.put(address, entry);
        pool.used++;
    }

    /**
     * Drops the least recently used mapping (of one family, or of either when {@code ipv6} is null) if it is older
     * than the TTL.
     */
    private boolean evictOldest(long now, Boolean ipv6) {
        Iterator<Entry> it = byName.values().iterator();
        while (it.hasNext()) {
            Entry oldest = it.next();
            boolean family = oldest.address instanceof Inet6Address;
            if (ipv6 != null && family != ipv6) {
                continue;
            }
            if (now - oldest.lastUsedNanos < ttlNanos) {
                return false;
            }
            it.remove();
            byAddress.remove(oldest.address);
            poolFor(oldest.address).used--;
            evicted++;
            return true;
        }
        return false;
    }

    private static String key(String name, boolean ipv6) {
        return (ipv6 ? "6 " : "4 ") + name;
    }

    @Override
    public synchronized String toString() {
        return v4 == null ? "fake-IP map (no [dns])"
                : "fake-IP map " + v4.network + " " + v6.network + ": " + byName.size() + "/" + maxEntries + " entries";
    }
}
