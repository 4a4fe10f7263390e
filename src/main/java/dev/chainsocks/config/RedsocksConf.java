package dev.chainsocks.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A redsocks configuration file, as redsocks' own parser reads it: sections {@code name { key = value; ... }}
 * ({@code base}, {@code redsocks}, {@code redudp}, {@code dnstc}, {@code dnsu2t}, each any number of times), values
 * bare words or double-quoted strings (with backslash escapes), comments {@code //} to the end of the line and
 * {@code /* ... *}{@code /}. Keys are not checked here: {@link RedsocksImport} says what each one becomes.
 *
 * @param source   the file, for messages
 * @param sections in file order
 */
public record RedsocksConf(Path source, List<Section> sections) {

    /** One {@code key = value;}. */
    public record Entry(String key, String value, int line) {
    }

    /** One {@code name { ... }} section. */
    public record Section(String name, int line, List<Entry> entries) {

        public Section {
            entries = List.copyOf(entries);
        }

        /** The value of the last entry with this key (redsocks keeps the last one). */
        public Optional<String> get(String key) {
            Optional<String> value = Optional.empty();
            for (Entry entry : entries) {
                if (entry.key().equals(key)) {
                    value = Optional.of(entry.value());
                }
            }
            return value;
        }
    }

    public RedsocksConf {
        Objects.requireNonNull(source, "source");
        sections = List.copyOf(sections);
    }

    /**
     * Parses the text of a redsocks.conf.
     *
     * @throws ConfigException naming {@code file:line} and what was expected
     */
    public static RedsocksConf parse(String text, Path source) throws ConfigException {
        return new RedsocksConf(source, new Parser(text, source).file());
    }

    private static final class Parser {
        private final String text;
        private final Path source;
        private int pos;
        private int line = 1;

        Parser(String text, Path source) {
            this.text = text;
            this.source = source;
        }

        List<Section> file() throws ConfigException {
            List<Section> sections = new ArrayList<>();
            while (true) {
                skipSpaceAndComments();
                if (pos >= text.length()) {
                    return sections;
                }
                int sectionLine = line;
                String name = word("a section name such as redsocks");
                skipSpaceAndComments();
                expect('{', "'{' after section name " + name);
                List<Entry> entries = new ArrayList<>();
                while (true) {
                    skipSpaceAndComments();
                    if (pos >= text.length()) {
                        throw error(sectionLine, "section " + name + " is not closed with '}'");
                    }
                    if (text.charAt(pos) == '}') {
                        pos++;
                        break;
                    }
                    int entryLine = line;
                    String key = word("a key or '}'");
                    skipSpaceAndComments();
                    expect('=', "'=' after " + key);
                    skipSpaceAndComments();
                    String value = value(key);
                    skipSpaceAndComments();
                    expect(';', "';' after the value of " + key);
                    entries.add(new Entry(key, value, entryLine));
                }
                sections.add(new Section(name, sectionLine, entries));
            }
        }

        private void skipSpaceAndComments() throws ConfigException {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == '\n') {
                    line++;
                    pos++;
                } else if (Character.isWhitespace(c)) {
                    pos++;
                } else if (text.startsWith("//", pos)) {
                    while (pos < text.length() && text.charAt(pos) != '\n') {
                        pos++;
                    }
                } else if (text.startsWith("/*", pos)) {
                    int start = line;
                    int end = text.indexOf("*/", pos + 2);
                    if (end < 0) {
                        throw error(start, "comment /* is not closed with */");
                    }
                    for (int i = pos; i < end; i++) {
                        if (text.charAt(i) == '\n') {
                            line++;
                        }
                    }
                    pos = end + 2;
                } else {
                    return;
                }
            }
        }

        private String word(String expected) throws ConfigException {
            int start = pos;
            while (pos < text.length() && isWordChar(text.charAt(pos))) {
                pos++;
            }
            if (start == pos) {
                throw error(line, "expected " + expected + ", found " + found());
            }
            return text.substring(start, pos);
        }

        private String value(String key) throws ConfigException {
            if (pos < text.length() && text.charAt(pos) == '"') {
                int start = line;
                StringBuilder out = new StringBuilder();
                pos++;
                while (true) {
                    if (pos >= text.length()) {
                        throw error(start, "the string value of " + key + " is not closed with '\"'");
                    }
                    char c = text.charAt(pos++);
                    if (c == '"') {
                        return out.toString();
                    }
                    if (c == '\n') {
                        line++;
                    }
                    if (c == '\\' && pos < text.length()) {
                        c = text.charAt(pos++);
                    }
                    out.append(c);
                }
            }
            return word("a value for " + key);
        }

        private void expect(char c, String what) throws ConfigException {
            if (pos >= text.length() || text.charAt(pos) != c) {
                throw error(line, "expected " + what + ", found " + found());
            }
            pos++;
        }

        private String found() {
            if (pos >= text.length()) {
                return "the end of the file";
            }
            char c = text.charAt(pos);
            return c < 0x20 || c == 0x7f ? String.format("byte 0x%02x", (int) c) : "'" + c + "'";
        }

        private static boolean isWordChar(char c) {
            return c > ' ' && c != 0x7f && "{}=;\"".indexOf(c) < 0;
        }

        private ConfigException error(int at, String message) {
            return new ConfigException(List.of(source + ":" + at + ": " + message));
        }
    }
}
