package dev.chainsocks.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binds a TOML table onto a record, as {@link ConfigFile} declares it: each component is a key, its name in
 * kebab-case ({@code logLevel} is {@code log-level}) unless {@link Key} names it. Components are {@code String},
 * {@code Long}, {@code Boolean}, records, {@code List} and {@code Map<String, ...>} of those; a key the file leaves
 * out is {@code null}. Values are never converted from one TOML type to another: {@code 10} is not a string and
 * {@code "true"} is not a boolean.
 *
 * <p>Entries are bound in document order, and the first mismatch (an unknown key, a value of the wrong type) ends
 * the binding with its path, so the message names the first problem in the file.
 */
final class RecordBinder {

    /** The key of a record component whose name cannot be its key, such as {@code default}. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    @interface Key {
        String value();
    }

    /** The kind of value a component takes, as a message says it. */
    enum Expected {
        STRING("a string"), INTEGER("an integer"), BOOLEAN("true or false"), ARRAY("an array"), TABLE("a table");

        private final String text;

        Expected(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** Why a value did not bind. */
    sealed interface Mismatch {
        /** A key the table does not have; {@code known} are the keys it has, sorted. */
        record UnknownKey(String key, List<String> known) implements Mismatch {
        }

        /** A value of another type than the component's. */
        record WrongType(Expected expected, TomlValue found) implements Mismatch {
        }

        /** An integer outside the range of a {@code long}. */
        record OutOfRange(BigInteger value) implements Mismatch {
        }
    }

    /** A mismatch and the path of the key or element where it is ({@code [chain, main, hops, 1]}). */
    static final class BindException extends Exception {
        private static final long serialVersionUID = 1L;

        private final transient List<String> path;
        private final transient Mismatch mismatch;

        BindException(List<String> path, Mismatch mismatch) {
            super(String.join(".", path) + ": " + mismatch, null, false, false);
            this.path = List.copyOf(path);
            this.mismatch = mismatch;
        }

        List<String> path() {
            return path;
        }

        Mismatch mismatch() {
            return mismatch;
        }
    }

    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private RecordBinder() {
    }

    /** Binds the document's root table onto {@code type}. */
    static <T extends Record> T bind(TomlValue.Table root, Class<T> type) throws BindException {
        return type.cast(record(root, type, new ArrayList<>()));
    }

    /** The file's key for a record component. */
    private static String keyOf(RecordComponent component) {
        Key key = component.getAnnotation(Key.class);
        if (key != null) {
            return key.value();
        }
        String name = component.getName();
        StringBuilder out = new StringBuilder(name.length() + 4);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isUpperCase(c)) {
                out.append('-').append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static Object value(TomlValue value, Type type, List<String> path) throws BindException {
        if (type == String.class) {
            if (value instanceof TomlValue.Text text) {
                return text.value();
            }
            throw new BindException(path, new Mismatch.WrongType(Expected.STRING, value));
        }
        if (type == Long.class) {
            if (value instanceof TomlValue.Int integer) {
                if (integer.value().compareTo(LONG_MIN) < 0 || integer.value().compareTo(LONG_MAX) > 0) {
                    throw new BindException(path, new Mismatch.OutOfRange(integer.value()));
                }
                return integer.value().longValue();
            }
            throw new BindException(path, new Mismatch.WrongType(Expected.INTEGER, value));
        }
        if (type == Boolean.class) {
            if (value instanceof TomlValue.Bool bool) {
                return bool.value();
            }
            throw new BindException(path, new Mismatch.WrongType(Expected.BOOLEAN, value));
        }
        if (type instanceof Class<?> record && record.isRecord()) {
            if (value instanceof TomlValue.Table table) {
                return record(table, record, path);
            }
            throw new BindException(path, new Mismatch.WrongType(Expected.TABLE, value));
        }
        if (type instanceof ParameterizedType generic && generic.getRawType() == List.class) {
            if (!(value instanceof TomlValue.Array array)) {
                throw new BindException(path, new Mismatch.WrongType(Expected.ARRAY, value));
            }
            Type element = generic.getActualTypeArguments()[0];
            List<Object> out = new ArrayList<>(array.items().size());
            for (int i = 0; i < array.items().size(); i++) {
                out.add(value(array.items().get(i), element, append(path, String.valueOf(i))));
            }
            return Collections.unmodifiableList(out);
        }
        if (type instanceof ParameterizedType generic && generic.getRawType() == Map.class
                && generic.getActualTypeArguments()[0] == String.class) {
            if (!(value instanceof TomlValue.Table table)) {
                throw new BindException(path, new Mismatch.WrongType(Expected.TABLE, value));
            }
            Type element = generic.getActualTypeArguments()[1];
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<String, TomlValue> entry : table.entries().entrySet()) {
                out.put(entry.getKey(), value(entry.getValue(), element, append(path, entry.getKey())));
            }
            return Collections.unmodifiableMap(out);
        }
        throw new IllegalArgumentException("no TOML binding for " + type.getTypeName() + " at " + path);
    }

    private static Record record(TomlValue.Table table, Class<?> type, List<String> path) throws BindException {
        RecordComponent[] components = type.getRecordComponents();
        Map<String, Integer> index = new LinkedHashMap<>();
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            index.put(keyOf(components[i]), i);
            types[i] = components[i].getType();
        }
        Object[] arguments = new Object[components.length];
        for (Map.Entry<String, TomlValue> entry : table.entries().entrySet()) {
            Integer slot = index.get(entry.getKey());
            List<String> at = append(path, entry.getKey());
            if (slot == null) {
                throw new BindException(at, new Mismatch.UnknownKey(entry.getKey(),
                        index.keySet().stream().sorted().toList()));
            }
            arguments[slot] = value(entry.getValue(), components[slot].getGenericType(), at);
        }
        try {
            Constructor<?> canonical = type.getDeclaredConstructor(types);
            return (Record) canonical.newInstance(arguments);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("constructing " + type.getName() + " failed", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + type.getName(), e);
        }
    }

    private static List<String> append(List<String> path, String segment) {
        List<String> out = new ArrayList<>(path.size() + 1);
        out.addAll(path);
        out.add(segment);
        return out;
    }
}
