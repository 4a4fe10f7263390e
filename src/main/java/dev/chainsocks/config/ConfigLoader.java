package dev.chainsocks.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import com.fasterxml.jackson.dataformat.toml.TomlStreamReadException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a chainsocks TOML file into a validated {@link ChainsocksConfig}.
 *
 * <p>Three stages, each failing with file and line: the TOML parser (syntax), Jackson mapping onto records
 * with unknown keys and wrong value types rejected, then {@link ConfigValidator} for values and cross-checks,
 * which reports every problem it finds at once. Lines for the last two stages come from {@link SourceLines},
 * because Jackson's TOML reader keeps no locations once the document is a tree.
 */
public final class ConfigLoader {

    private static final Set<String> DURATION_KEYS = Set.of("shutdown-grace", "connect", "handshake", "dial",
            "idle", "failover-backoff", "flow-idle-timeout", "connect-timeout", "handshake-timeout", "ttl", "timeout");

    private static final TomlMapper MAPPER = mapper();

    private ConfigLoader() {
    }

    private static TomlMapper mapper() {
        TomlMapper mapper = TomlMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return mapper;
    }

    /**
     * Reads and validates a configuration file.
     *
     * @throws ConfigException when the file cannot be read or is not a valid configuration; the message has one
     *                         {@code file:line: table key: problem} line per problem
     */
    public static ChainsocksConfig load(Path file) throws ConfigException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new ConfigException(file + ": permission denied (the service user must be able to read it)", e);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(file + ": not UTF-8 text", e);
        }
        return parse(text, file);
    }

    /**
     * Validates configuration text.
     *
     * @param toml   the document
     * @param source the file name used in messages and kept as {@link ChainsocksConfig#source()}
     */
    public static ChainsocksConfig parse(String toml, Path source) throws ConfigException {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(toml);
        } catch (TomlStreamReadException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new ConfigException(List.of(source + (line > 0 ? ":" + line : "") + ": TOML syntax error: "
                    + e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new ConfigException(List.of(source + ": cannot read TOML: " + e.getOriginalMessage()));
        }
        SourceLines lines = SourceLines.scan(toml);
        ConfigValidator.Locator locator = (linePath, contextPath, message) -> {
            int line = lines.lineOf(linePath);
            String context = ConfigValidator.describe(contextPath);
            return new ConfigValidator.Problem(line, source + (line > 0 ? ":" + line : "") + ": "
                    + (context.isEmpty() ? "" : context + ": ") + message);
        };
        ConfigFile file;
        try {
            file = MAPPER.treeToValue(tree, ConfigFile.class);
        } catch (UnrecognizedPropertyException e) {
            List<String> path = path(e);
            List<String> container = path.subList(0, path.size() - 1);
            throw new ConfigException(List.of(locator.at(path, container,
                    unknownKey(e.getPropertyName(), container, e.getKnownPropertyIds())).text()));
        } catch (MismatchedInputException e) {
            List<String> path = path(e);
            throw new ConfigException(List.of(locator.at(path, wrongType(path, e, tree)).text()));
        } catch (JsonMappingException e) {
            List<String> path = path(e);
            throw new ConfigException(List.of(locator.at(path, "invalid value: " + e.getOriginalMessage()).text()));
        } catch (JsonProcessingException e) {
            throw new ConfigException(List.of(source + ": " + e.getOriginalMessage()));
        }
        return ConfigValidator.validate(file, locator, Optional.of(source));
    }

    private static List<String> path(JsonMappingException e) {
        List<String> path = new ArrayList<>();
        for (JsonMappingException.Reference ref : e.getPath()) {
            path.add(ref.getFieldName() != null ? ref.getFieldName() : String.valueOf(ref.getIndex()));
        }
        return path;
    }

    private static String unknownKey(String key, List<String> container, Collection<Object> known) {
        List<String> names = known.stream().map(String::valueOf).sorted().toList();
        String suggestion = names.stream()
                .filter(n -> editDistance(n, key) <= 2)
                .findFirst().map(n -> "did you mean \"" + n + "\"? ").orElse("");
        String where = container.isEmpty() ? "unknown top-level key \"" : "unknown key \"";
        String listed = container.isEmpty() ? "tables are " : "known keys: ";
        return where + key + "\" (" + suggestion + listed + String.join(", ", names) + ")";
    }

    private static String wrongType(List<String> path, MismatchedInputException e, JsonNode tree) {
        JsonNode found = tree;
        for (String segment : path) {
            found = found == null ? null : found.isArray() ? found.get(Integer.parseInt(segment)) : found.get(segment);
        }
        Class<?> target = e.getTargetType();
        String expected;
        if (target == null) {
            expected = "another type";
        } else if (target == String.class) {
            expected = "a string";
        } else if (target == Long.class || target == Integer.class || target == long.class || target == int.class) {
            expected = "an integer";
        } else if (target == Boolean.class || target == boolean.class) {
            expected = "true or false";
        } else if (Collection.class.isAssignableFrom(target)) {
            expected = "an array";
        } else if (Map.class.isAssignableFrom(target) || target.isRecord()) {
            expected = "a table";
        } else {
            expected = target.getSimpleName();
        }
        String message = "expected " + expected + ", found " + describe(found);
        String key = path.isEmpty() ? "" : path.get(path.size() - 1);
        if (DURATION_KEYS.contains(key) && found != null && found.isNumber()) {
            message += "; durations are strings with a unit, such as \"" + found.asText() + "s\"";
        } else if (path.equals(List.of("listener")) && found != null && found.isObject()) {
            message += "; write [[listener]] with double brackets, once per listener";
        } else if (key.equals("hops") && found != null && found.isTextual()) {
            message += "; write hops = [\"scheme://host:port\", ...], even for a single hop";
        }
        return message;
    }

    private static String describe(JsonNode node) {
        if (node == null) {
            return "nothing";
        }
        if (node.isTextual()) {
            return "a string";
        }
        if (node.isIntegralNumber()) {
            return "the integer " + node.asText();
        }
        if (node.isNumber()) {
            return "the number " + node.asText();
        }
        if (node.isBoolean()) {
            return node.asText();
        }
        if (node.isArray()) {
            return "an array";
        }
        if (node.isObject()) {
            return "a table";
        }
        return node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
