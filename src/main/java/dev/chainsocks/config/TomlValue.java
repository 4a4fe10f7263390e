package dev.chainsocks.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.toml.TomlFactory;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed TOML value. Jackson's TOML parser does the parsing (syntax errors carry their line); its token stream
 * is read into these types rather than into Jackson's data binding, which took about half a second of start-up to
 * build its mapper and introspect the records. Date and time values arrive as strings, as they did through Jackson.
 */
sealed interface TomlValue {

    /** How the value reads in a message: {@code a string}, {@code the integer 10}, {@code a table}. */
    String describe();

    /** A table, its keys in document order. */
    record Table(Map<String, TomlValue> entries) implements TomlValue {
        @Override
        public String describe() {
            return "a table";
        }
    }

    /** An array. */
    record Array(List<TomlValue> items) implements TomlValue {
        @Override
        public String describe() {
            return "an array";
        }
    }

    /** A string (also a date or time, as written). */
    record Text(String value) implements TomlValue {
        @Override
        public String describe() {
            return "a string";
        }
    }

    /** An integer, of any size the parser accepts. */
    record Int(BigInteger value) implements TomlValue {
        @Override
        public String describe() {
            return "the integer " + value;
        }
    }

    /** A floating-point number. */
    record Decimal(double value) implements TomlValue {
        @Override
        public String describe() {
            return "the number " + value;
        }
    }

    /** {@code true} or {@code false}. */
    record Bool(boolean value) implements TomlValue {
        @Override
        public String describe() {
            return String.valueOf(value);
        }
    }

    /**
     * Parses a document.
     *
     * @throws com.fasterxml.jackson.dataformat.toml.TomlStreamReadException on a syntax error, with its location
     * @throws IOException                                                   on any other parser failure
     */
    static Table parse(String toml) throws IOException {
        try (JsonParser parser = new TomlFactory().createParser(toml)) {
            JsonToken first = parser.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new IOException("the TOML parser returned " + first + " instead of a table");
            }
            return table(parser);
        }
    }

    private static Table table(JsonParser parser) throws IOException {
        Map<String, TomlValue> entries = new LinkedHashMap<>();
        for (JsonToken token = parser.nextToken(); token == JsonToken.FIELD_NAME; token = parser.nextToken()) {
            String key = parser.currentName();
            parser.nextToken();
            entries.put(key, value(parser));
        }
        return new Table(Collections.unmodifiableMap(entries));
    }

    private static Array array(JsonParser parser) throws IOException {
        List<TomlValue> items = new ArrayList<>();
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
            items.add(value(parser));
        }
        return new Array(Collections.unmodifiableList(items));
    }

    private static TomlValue value(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        return switch (token) {
            case START_OBJECT -> table(parser);
            case START_ARRAY -> array(parser);
            case VALUE_STRING -> new Text(parser.getText());
            case VALUE_NUMBER_INT -> new Int(parser.getBigIntegerValue());
            case VALUE_NUMBER_FLOAT -> new Decimal(parser.getDoubleValue());
            case VALUE_TRUE -> new Bool(true);
            case VALUE_FALSE -> new Bool(false);
            default -> throw new IOException("the TOML parser returned an unexpected " + token);
        };
    }
}
