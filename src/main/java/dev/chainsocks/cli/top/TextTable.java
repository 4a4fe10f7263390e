package dev.chainsocks.cli.top;

import java.util.ArrayList;
import java.util.List;

/**
 * Lays out a table of text cells in a given width: every column as wide as its widest cell when that fits; otherwise
 * the flexible columns (addresses, chains, errors) give up room, the widest first, down to their minimum, and a
 * cut cell ends in {@code ~}. Numbers are right-aligned. Lines carry no trailing spaces.
 */
final class TextTable {

    /** Spaces between two columns. */
    static final int GAP = 2;
    /** The narrowest a flexible column gets. */
    static final int MIN_FLEXIBLE = 8;

    /** How a column's cells line up. */
    enum Align { LEFT, RIGHT }

    /** One column: its name, alignment, and whether it gives up room when the table is too wide. */
    record Column(String header, Align align, boolean flexible) {
        static Column left(String header) {
            return new Column(header, Align.LEFT, false);
        }

        static Column flexible(String header) {
            return new Column(header, Align.LEFT, true);
        }

        static Column right(String header) {
            return new Column(header, Align.RIGHT, false);
        }
    }

    private TextTable() {
    }

    /**
     * The header line and one line per row, each at most {@code width} characters ({@code width <= 0}: no limit).
     * Lines that are still too wide once every flexible column is at its minimum are cut at {@code width}.
     */
    static List<String> render(List<Column> columns, List<List<String>> rows, int width) {
        int[] widths = new int[columns.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = columns.get(i).header().length();
            for (List<String> row : rows) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        if (width > 0) {
            shrink(columns, widths, width);
        }
        List<String> lines = new ArrayList<>(rows.size() + 1);
        lines.add(line(columns, widths, columns.stream().map(Column::header).toList(), width));
        for (List<String> row : rows) {
            lines.add(line(columns, widths, row, width));
        }
        return lines;
    }

    private static void shrink(List<Column> columns, int[] widths, int width) {
        int total = GAP * (widths.length - 1);
        for (int w : widths) {
            total += w;
        }
        while (total > width) {
            int widest = -1;
            for (int i = 0; i < widths.length; i++) {
                if (columns.get(i).flexible() && widths[i] > MIN_FLEXIBLE
                        && (widest < 0 || widths[i] > widths[widest])) {
                    widest = i;
                }
            }
            if (widest < 0) {
                return;
            }
            widths[widest]--;
            total--;
        }
    }

    private static String line(List<Column> columns, int[] widths, List<String> cells, int width) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            if (i > 0) {
                out.append(" ".repeat(GAP));
            }
            String cell = fit(cells.get(i), widths[i]);
            String padding = " ".repeat(widths[i] - cell.length());
            if (columns.get(i).align() == Align.RIGHT) {
                out.append(padding).append(cell);
            } else {
                out.append(cell).append(padding);
            }
        }
        String text = width > 0 && out.length() > width ? out.substring(0, width) : out.toString();
        return text.stripTrailing();
    }

    /** {@code text} cut to {@code width} characters, ending in {@code ~} when it was cut. */
    static String fit(String text, int width) {
        if (text.length() <= width) {
            return text;
        }
        if (width <= 0) {
            return "";
        }
        return text.substring(0, width - 1) + "~";
    }
}
