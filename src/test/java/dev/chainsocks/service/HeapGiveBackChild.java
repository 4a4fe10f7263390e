package dev.chainsocks.service;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * Run in a JVM of its own by {@link HeapGiveBackTest}: grows the old generation with about 16 MiB of live data for
 * "connections", drops it as they "close", then runs the check as the service timer would and prints what it saw:
 * {@code absent}, or {@code initial grown after collections} in bytes.
 */
final class HeapGiveBackChild {

    private static int open;

    private HeapGiveBackChild() {
    }

    public static void main(String[] args) {
        HeapGiveBack check = HeapGiveBack.forThisJvm(() -> open).orElse(null);
        if (check == null) {
            System.out.println("absent");
            return;
        }
        MemoryPoolMXBean tenured = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(pool -> pool.getName().equals("Tenured Gen")).findFirst().orElseThrow();
        check.check();
        List<byte[]> live = new ArrayList<>();
        for (open = 0; open < 4000; open++) {
            live.add(new byte[4096]);
            check.check();
        }
        System.gc(); // promote what is live, as time would
        long grown = tenured.getUsage().getCommitted();
        live.clear();
        open = 10;
        int collections = 0;
        while (collections < 10 && check.check()) {
            collections++;
        }
        System.out.println(tenured.getUsage().getInit() + " " + grown + " " + tenured.getUsage().getCommitted() + " "
                + collections);
    }
}
