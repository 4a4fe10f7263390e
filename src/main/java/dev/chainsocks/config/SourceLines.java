package dev.chainsocks.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each table, key and array element of a TOML document starts, by path: {@code [chain, main, hops, 1]} is
 * the second element of {@code hops} in {@code [chain.main]}, {@code [listener, 0, listen]} the {@code listen} key of
 * the first {@code [[listener]]}. Jackson's TOML reader keeps no locations once the document is a tree, so
 * after mapping, errors find their line here.
 *
 * <p>This is a light scan, not a parser: it runs only on text the real parser accepted, understands tables,
 * arrays of tables, dotted and quoted keys, multi-line arrays and strings and inline tables, and never fails;
 * a path it missed falls back to its nearest enclosing table or key.
 */
final class SourceLines {

    private final Map<List<String>, Integer> lines = new HashMap<>();
    private final Map<List<String>, Integer> arrayTableCounts = new HashMap<>();
    private final String text;
    private int pos;
    private int line = 1;
    private List<String> table = List.of();

    private SourceLines(String text) {
        this.text = text;
    }

    /** Scans a document the TOML parser accepted. */
    static SourceLines scan(String text) {
        SourceLines index = new SourceLines(text);
        try {
            index.document();
        } catch (RuntimeException e) {
            // Best effort: keep what was found; lookups fall back to enclosing paths.
        }
        return index;
    }

    /** The line where the path, or the nearest enclosing path found, starts; 0 if none. */
    int lineOf(List<String> path) {
        for (int n = path.size(); n > 0; n--) {
            Integer found = lines.get(path.subList(0, n));
            if (found != null) {
                return found;
            }
        }
        return 0;
    }

    private void document() {
        while (true) {
            skipSpaceCommentsAndNewlines();
            if (pos >= text.length()) {
                return;
            }
            int before = pos;
            int startLine = line;
            if (peek() == '[') {
                boolean arrayTable = text.startsWith("[[", pos);
                pos += arrayTable ? 2 : 1;
                List<String> keys = keyPath();
                List<String> path = resolve(keys, arrayTable);
                if (arrayTable) {
                    int index = arrayTableCounts.merge(path, 1, Integer::sum) - 1;
                    lines.putIfAbsent(path, startLine);
                    path = append(path, String.valueOf(index));
                }
                record(path, startLine);
                table = path;
            } else {
                List<String> keys = keyPath();
                skipSpace();
                if (peek() == '=') {
                    pos++;
                }
                List<String> path = concat(table, keys);
                record(path, startLine);
                value(path);
            }
            skipToLineEnd();
            if (pos == before) {
                advance();
            }
        }
    }

    /** A table header's path, with the current index inserted after each array-of-tables prefix. */
    private List<String> resolve(List<String> keys, boolean arrayTable) {
        List<String> path = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            path.add(keys.get(i));
            boolean last = i == keys.size() - 1;
            Integer count = arrayTableCounts.get(path);
            if (count != null && !(last && arrayTable)) {
                path.add(String.valueOf(count - 1));
            }
        }
        return List.copyOf(path);
    }

    private void record(List<String> path, int startLine) {
        for (int n = 1; n < path.size(); n++) {
            lines.putIfAbsent(List.copyOf(path.subList(0, n)), startLine);
        }
        lines.put(path, startLine);
    }

    private void value(List<String> path) {
        skipSpace();
        if (pos >= text.length()) {
            return;
        }
        char c = peek();
        if (c == '"' || c == '\'') {
            string();
        } else if (c == '[') {
            pos++;
            int index = 0;
            while (pos < text.length()) {
                skipSpaceCommentsAndNewlines();
                if (pos >= text.length() || peek() == ']') {
                    pos++;
                    return;
                }
                List<String> element = append(path, String.valueOf(index++));
                record(element, line);
                int before = pos;
                value(element);
                skipSpaceCommentsAndNewlines();
                if (pos < text.length() && peek() == ',') {
                    pos++;
                } else if (pos == before) {
                    return;
                }
            }
        } else if (c == '{') {
            pos++;
            while (pos < text.length()) {
                skipSpace();
                if (pos >= text.length() || peek() == '}') {
                    pos++;
                    return;
                }
                int before = pos;
                List<String> key = concat(path, keyPath());
                skipSpace();
                if (pos < text.length() && peek() == '=') {
                    pos++;
                }
                record(key, line);
                value(key);
                skipSpace();
                if (pos < text.length() && peek() == ',') {
                    pos++;
                } else if (pos == before) {
                    return;
                }
            }
        } else {
            while (pos < text.length() && ",]}#\r\n".indexOf(peek()) < 0) {
                pos++;
            }
        }
    }

    private List<String> keyPath() {
        List<String> keys = new ArrayList<>();
        while (pos < text.length()) {
            skipSpace();
            if (pos >= text.length()) {
                break;
            }
            char c = peek();
            if (c == '"' || c == '\'') {
                keys.add(string());
            } else {
                int start = pos;
                while (pos < text.length() && (Character.isLetterOrDigit(peek()) || peek() == '-' || peek() == '_')) {
                    pos++;
                }
                if (pos == start) {
                    break;
                }
                keys.add(text.substring(start, pos));
            }
            skipSpace();
            if (pos < text.length() && peek() == '.') {
                pos++;
            } else {
                break;
            }
        }
        return keys;
    }

    /** Skips a string of any of the four kinds and returns its content (escapes only roughly decoded). */
    private String string() {
        char quote = peek();
        boolean multiLine = text.startsWith(String.valueOf(quote).repeat(3), pos);
        pos += multiLine ? 3 : 1;
        StringBuilder content = new StringBuilder();
        while (pos < text.length()) {
            char c = peek();
            if (multiLine ? text.startsWith(String.valueOf(quote).repeat(3), pos) : c == quote) {
                pos += multiLine ? 3 : 1;
                while (multiLine && pos < text.length() && peek() == quote) {
                    content.append(quote);
                    pos++;
                }
                break;
            }
            if (!multiLine && (c == '\n' || c == '\r')) {
                break;
            }
            if (c == '\\' && quote == '"' && pos + 1 < text.length()) {
                advance();
                content.append(peek());
                advance();
                continue;
            }
            content.append(c);
            advance();
        }
        return content.toString();
    }

    private void skipSpace() {
        while (pos < text.length() && (peek() == ' ' || peek() == '\t')) {
            pos++;
        }
    }

    private void skipSpaceCommentsAndNewlines() {
        while (pos < text.length()) {
            char c = peek();
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                advance();
            } else if (c == '#') {
                while (pos < text.length() && peek() != '\n') {
                    pos++;
                }
            } else {
                return;
            }
        }
    }

    private void skipToLineEnd() {
        while (pos < text.length() && peek() != '\n') {
            if (peek() == '#') {
                while (pos < text.length() && peek() != '\n') {
                    pos++;
                }
            } else if (peek() == '"' || peek() == '\'') {
                string();
            } else {
                pos++;
            }
        }
    }

    private char peek() {
        return text.charAt(pos);
    }

    private void advance() {
        if (pos < text.length() && text.charAt(pos) == '\n') {
            line++;
        }
        pos++;
    }

    private static List<String> append(List<String> path, String segment) {
        List<String> out = new ArrayList<>(path);
        out.add(segment);
        return List.copyOf(out);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }
}
