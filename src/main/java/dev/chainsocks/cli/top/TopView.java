package dev.chainsocks.cli.top;

import dev.chainsocks.cli.top.TextTable.Column;
import dev.chainsocks.service.ConnectionsReport;
import dev.chainsocks.service.ConnectionsReport.Chain;
import dev.chainsocks.service.ConnectionsReport.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Lays a {@link Frame} out as lines of text: a two-line summary, the chains, then the connections in the chosen
 * order. {@code --once} prints these lines as they are; the full-screen view shows as many as fit.
 *
 * <pre>
 * chainsocks top: up 2m5s, 2 active, 14 accepted, 12 dialed, 2 failed (dial=2)
 * total up 1.2M at 20.1K/s, down 310M at 5.2M/s; sorted by rate
 *
 * LISTENER        CHAIN  STATE  FOR    OK  FAILED  FAIL/1m  LAST ERROR
 * 0.0.0.0:12345   main   up     1m2s   12       2        0  hop 1 ...: connection refused
 *
 * ID  CLIENT            DESTINATION        CHAIN                  STATE  UP    DOWN  UP/s  DOWN/s  AGE
 * 14  198.18.1.2:40122  198.19.2.3:8080    main[socks5://...]     relay  1.0K  150M  0     5.1M    31.2s
 * </pre>
 */
public final class TopView {

    private static final List<Column> CHAIN_COLUMNS = List.of(Column.left("LISTENER"), Column.flexible("CHAIN"),
            Column.left("STATE"), Column.right("FOR"), Column.right("OK"), Column.right("FAILED"),
            Column.right("FAIL/-"), Column.flexible("LAST ERROR"));
    private static final int RECENT_COLUMN = 6;
    private static final List<Column> CONNECTION_COLUMNS = List.of(Column.right("ID"), Column.flexible("CLIENT"),
            Column.flexible("DESTINATION"), Column.flexible("CHAIN"), Column.left("STATE"), Column.right("UP"),
            Column.right("DOWN"), Column.right("UP/s"), Column.right("DOWN/s"), Column.right("AGE"));
    /** Lines above the tables: two of summary and a blank one. */
    private static final int SUMMARY_LINES = 3;

    private TopView() {
    }

    /**
     * The frame as lines at most {@code width} characters wide ({@code <= 0}: no limit) and, when {@code height > 0},
     * at most {@code height} lines: chains take at most a third of what is left under the summary, connections
     * the rest, and a last line says how many did not fit.
     *
     * @param keys a hint for the full-screen view's keys, appended to the summary; empty for none
     */
    public static List<Line> render(Frame frame, SortColumn sort, int width, int height, String keys) {
        List<Line> lines = new ArrayList<>();
        ConnectionsReport report = frame.report();
        ConnectionsReport.Totals totals = report.totals();
        String failed = totals.failedCount() == 0 ? "" : " (" + totals.failed().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")) + ")";
        lines.add(new Line(Line.Kind.TITLE, TextTable.fit("chainsocks top: up "
                + HumanUnits.age(Duration.ofMillis(report.uptimeMillis())) + ", " + totals.active() + " active, "
                + totals.accepted() + " accepted, " + totals.dialed() + " dialed, " + totals.failedCount()
                + " failed" + failed, limit(width))));
        lines.add(new Line(Line.Kind.TITLE, TextTable.fit("total up " + HumanUnits.bytes(frame.totalBytesUp())
                + " at " + HumanUnits.rate(frame.totalUpRate()) + "/s, down " + HumanUnits.bytes(frame.totalBytesDown())
                + " at " + HumanUnits.rate(frame.totalDownRate()) + "/s; sorted by " + sort
                + (keys.isEmpty() ? "" : "   " + keys), limit(width))));
        lines.add(Line.plain(""));

        List<String> chainTable = TextTable.render(chainColumns(frame.recentWindow()),
                frame.chains().stream().map(TopView::chainCells).toList(), width);
        List<ConnectionRow> sorted = frame.connections().stream().sorted(sort.order()).toList();
        List<String> connectionTable = TextTable.render(CONNECTION_COLUMNS,
                sorted.stream().map(TopView::connectionCells).toList(), width);

        int chainRows = chainTable.size() - 1;
        int connectionRows = Math.max(1, sorted.size());
        if (height > 0) {
            int room = Math.max(0, height - SUMMARY_LINES - 3);
            chainRows = Math.min(chainRows, Math.max(1, room / 3));
            connectionRows = Math.min(connectionRows, Math.max(0, room - chainRows));
        }
        addRows(lines, chainTable, chainRows, " chain(s)", width);
        lines.add(Line.plain(""));
        if (sorted.isEmpty()) {
            lines.add(new Line(Line.Kind.HEADING, connectionTable.get(0)));
            if (connectionRows > 0) {
                lines.add(Line.plain("no live connections"));
            }
        } else {
            addRows(lines, connectionTable, connectionRows, " connection(s)", width);
        }
        return height > 0 && lines.size() > height ? lines.subList(0, height) : lines;
    }

    /** The heading, then {@code rows} rows; when some are left out, the last shown row says how many. */
    private static void addRows(List<Line> lines, List<String> table, int rows, String what, int width) {
        lines.add(new Line(Line.Kind.HEADING, table.get(0)));
        int available = table.size() - 1;
        if (rows >= available) {
            table.subList(1, table.size()).forEach(row -> lines.add(Line.plain(row)));
            return;
        }
        for (int i = 1; i < rows; i++) {
            lines.add(Line.plain(table.get(i)));
        }
        if (rows > 0) {
            lines.add(Line.plain(TextTable.fit("... " + (available - rows + 1) + " more" + what, limit(width))));
        }
    }

    private static List<Column> chainColumns(Duration window) {
        List<Column> columns = new ArrayList<>(CHAIN_COLUMNS);
        columns.set(RECENT_COLUMN, Column.right("FAIL/" + windowLabel(window)));
        return columns;
    }

    /** {@code 1m} once the window is full, {@code 12s} while it fills, {@code -} before the second sample. */
    static String windowLabel(Duration window) {
        long seconds = Math.round(window.toMillis() / 1000.0);
        if (seconds <= 0) {
            return "-";
        }
        return seconds >= Sampler.RECENT_WINDOW.toSeconds() ? "1m" : seconds + "s";
    }

    private static List<String> chainCells(ChainRow row) {
        Chain chain = row.chain();
        return List.of(chain.listener(), chain.name(), chain.state().toString(), HumanUnits.age(chain.stateAge()),
                Long.toString(chain.successes()), Long.toString(chain.failures()),
                row.recentFailures().isPresent() ? Long.toString(row.recentFailures().getAsLong()) : "-",
                chain.lastError() == null ? "-" : oneLine(chain.lastError()));
    }

    private static List<String> connectionCells(ConnectionRow row) {
        Connection connection = row.connection();
        return List.of(Long.toString(connection.id()), connection.client(), connection.destination(),
                oneLine(connection.chain()), connection.state().toString(), HumanUnits.bytes(connection.bytesUp()),
                HumanUnits.bytes(connection.bytesDown()), HumanUnits.rate(row.upRate()),
                HumanUnits.rate(row.downRate()), HumanUnits.age(connection.age()));
    }

    /** Control characters (an error text could carry a line break) as spaces, so a cell stays on its line. */
    private static String oneLine(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        return out.toString();
    }

    private static int limit(int width) {
        return width > 0 ? width : Integer.MAX_VALUE;
    }
}
