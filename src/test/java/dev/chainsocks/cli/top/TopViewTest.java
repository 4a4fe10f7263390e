package dev.chainsocks.cli.top;

import static dev.chainsocks.cli.top.Reports.chain;
import static dev.chainsocks.cli.top.Reports.connection;
import static dev.chainsocks.cli.top.Reports.report;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chainsocks.chain.ChainState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tables {@code top --once} prints, at a given width and sorted by each column. */
class TopViewTest {

    /** Two samples a second apart: session 3 is fast, session 1 is older, session 2 moved the most bytes. */
    private static Frame frame() {
        Sampler sampler = new Sampler();
        List<dev.chainsocks.service.ConnectionsReport.Chain> chains = List.of(
                chain("main", ChainState.UP, 1, "hop 1 socks5://198.19.2.2:1080: connection refused"),
                chain("spare", ChainState.UNTRIED, 0, null));
        sampler.next(report(120_000, 1_000, 2_000, List.of(
                connection(1, "198.19.2.3:8080", 10, 1_000, 100_000),
                connection(2, "[fd00:1::3]:443", 20_000, 500_000_000, 50_000),
                connection(3, "198.19.2.3:8081", 0, 0, 2_000)), chains));
        return sampler.next(report(121_000, 1_000, 2_000, List.of(
                connection(1, "198.19.2.3:8080", 10, 1_512, 101_000),
                connection(2, "[fd00:1::3]:443", 20_000, 500_100_000, 51_000),
                connection(3, "198.19.2.3:8081", 1_024, 3 << 20, 3_000)), chains));
    }

    private static List<String> text(List<Line> lines) {
        return lines.stream().map(Line::text).toList();
    }

    @Test
    void onceAtUnlimitedWidthShowsEveryCellWhole() {
        List<String> lines = text(TopView.render(frame(), SortColumn.RATE, 0, 0, ""));
        assertThat(lines).containsExactly(
                "chainsocks top: up 2m1s, 3 active, 20 accepted, 18 dialed, 1 failed (dial=1)",
                "total up 21.5K at 1.0K/s, down 480M at 3.1M/s; sorted by rate",
                "",
                "LISTENER       CHAIN  STATE     FOR  OK  FAILED  FAIL/1s  LAST ERROR",
                "0.0.0.0:12345  main   up       1m2s  10       1        0  hop 1 socks5://198.19.2.2:1080: connection refused",
                "0.0.0.0:12345  spare  untried  1m2s  10       0        0  -",
                "",
                "ID  CLIENT            DESTINATION      CHAIN                           STATE     UP  DOWN  UP/s  DOWN/s    AGE",
                " 3  198.18.1.2:40003  198.19.2.3:8081  main[socks5://198.19.2.2:1080]  relay   1.0K  3.0M  1.0K    3.0M   3.0s",
                " 2  198.18.1.2:40002  [fd00:1::3]:443  main[socks5://198.19.2.2:1080]  relay  19.5K  477M     0   97.7K  51.0s",
                " 1  198.18.1.2:40001  198.19.2.3:8080  main[socks5://198.19.2.2:1080]  relay     10  1.5K     0     512  1m41s");
    }

    @Test
    void atAGivenWidthAddressesChainsAndErrorsGiveWayFirst() {
        List<String> lines = text(TopView.render(frame(), SortColumn.RATE, 100, 0, ""));
        assertThat(lines).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(100));
        assertThat(lines).containsExactly(
                "chainsocks top: up 2m1s, 3 active, 20 accepted, 18 dialed, 1 failed (dial=1)",
                "total up 21.5K at 1.0K/s, down 480M at 3.1M/s; sorted by rate",
                "",
                "LISTENER       CHAIN  STATE     FOR  OK  FAILED  FAIL/1s  LAST ERROR",
                "0.0.0.0:12345  main   up       1m2s  10       1        0  hop 1 socks5://198.19.2.2:1080: connectio~",
                "0.0.0.0:12345  spare  untried  1m2s  10       0        0  -",
                "",
                "ID  CLIENT            DESTINATION      CHAIN                 STATE     UP  DOWN  UP/s  DOWN/s    AGE",
                " 3  198.18.1.2:40003  198.19.2.3:8081  main[socks5://198.1~  relay   1.0K  3.0M  1.0K    3.0M   3.0s",
                " 2  198.18.1.2:40002  [fd00:1::3]:443  main[socks5://198.1~  relay  19.5K  477M     0   97.7K  51.0s",
                " 1  198.18.1.2:40001  198.19.2.3:8080  main[socks5://198.1~  relay     10  1.5K     0     512  1m41s");
        assertThat(lines.get(8)).hasSize(100);

        // Narrower than the fixed columns: every flexible column is at its minimum and lines are cut.
        List<String> narrow = text(TopView.render(frame(), SortColumn.RATE, 60, 0, ""));
        assertThat(narrow).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(60));
        assertThat(narrow.get(8)).isEqualTo(" 3  198.18.~  198.19.~  main[so~  relay   1.0K  3.0M  1.0K");
    }

    @Test
    void eachSortColumnOrdersTheConnections() {
        assertThat(ids(SortColumn.RATE)).containsExactly("3", "2", "1");
        assertThat(ids(SortColumn.UP_RATE)).containsExactly("3", "1", "2");
        assertThat(ids(SortColumn.DOWN_RATE)).containsExactly("3", "2", "1");
        assertThat(ids(SortColumn.BYTES)).containsExactly("2", "3", "1");
        assertThat(ids(SortColumn.AGE)).containsExactly("1", "2", "3");
        assertThat(text(TopView.render(frame(), SortColumn.AGE, 0, 0, "")).get(1)).endsWith("; sorted by age");
    }

    @Test
    void theSortKeyCyclesThroughEveryColumnAndBack() {
        SortColumn column = SortColumn.RATE;
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < SortColumn.values().length; i++) {
            seen.append(column).append(' ');
            column = column.next();
        }
        assertThat(seen.toString()).isEqualTo("rate up-rate down-rate bytes age ");
        assertThat(column).isEqualTo(SortColumn.RATE);
        assertThat(SortColumn.parse("Down-Rate")).isEqualTo(SortColumn.DOWN_RATE);
    }

    @Test
    void aShortScreenSaysHowManyConnectionsDidNotFit() {
        List<String> lines = text(TopView.render(frame(), SortColumn.RATE, 120, 9, "[s] sort  [q] quit"));
        assertThat(lines).hasSize(9);
        assertThat(lines.get(1)).endsWith("sorted by rate   [s] sort  [q] quit");
        assertThat(lines.get(3)).startsWith("LISTENER");
        assertThat(lines.get(4)).startsWith("... 2 more chain(s)");
        assertThat(lines.get(6)).startsWith("ID");
        assertThat(lines.get(7)).startsWith(" 3  ");
        assertThat(lines.get(8)).isEqualTo("... 2 more connection(s)");
        // One more line and every connection fits.
        assertThat(text(TopView.render(frame(), SortColumn.RATE, 120, 10, ""))).hasSize(10)
                .last().asString().startsWith(" 1  ");
    }

    @Test
    void noConnectionsSaysSo() {
        Frame frame = new Sampler().next(report(5_000, 0, 0, List.of(), List.of(chain("main", ChainState.UP, 0,
                null))));
        List<String> lines = text(TopView.render(frame, SortColumn.RATE, 0, 0, ""));
        assertThat(lines.get(1)).isEqualTo("total up 0 at -/s, down 0 at -/s; sorted by rate");
        assertThat(lines.get(3)).endsWith("FAIL/-  LAST ERROR");
        assertThat(lines.get(4)).endsWith("-  -");
        assertThat(lines.subList(6, lines.size())).containsExactly(
                "ID  CLIENT  DESTINATION  CHAIN  STATE  UP  DOWN  UP/s  DOWN/s  AGE", "no live connections");
    }

    @Test
    void unitsAreBinaryAndShort() {
        assertThat(HumanUnits.bytes(0)).isEqualTo("0");
        assertThat(HumanUnits.bytes(1023)).isEqualTo("1023");
        assertThat(HumanUnits.bytes(1024)).isEqualTo("1.0K");
        assertThat(HumanUnits.bytes(99.9 * 1024)).isEqualTo("99.9K");
        assertThat(HumanUnits.bytes(100 * 1024)).isEqualTo("100K");
        assertThat(HumanUnits.bytes(1536L << 20)).isEqualTo("1.5G");
        assertThat(TextTable.fit("abcdef", 4)).isEqualTo("abc~");
        assertThat(TextTable.fit("abcd", 4)).isEqualTo("abcd");
        assertThat(TopView.windowLabel(java.time.Duration.ofMillis(59_600))).isEqualTo("1m");
        assertThat(TopView.windowLabel(java.time.Duration.ofMillis(12_400))).isEqualTo("12s");
    }

    private static List<String> ids(SortColumn sort) {
        List<String> lines = text(TopView.render(frame(), sort, 0, 0, ""));
        return lines.subList(8, lines.size()).stream().map(line -> line.strip().split("\\s+")[0]).toList();
    }
}
