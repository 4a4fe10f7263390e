package dev.chainsocks.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.toml.TomlStreamReadException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a chainsocks TOML file into a validated {@link ChainsocksConfig}.
 *
 * <p>Three stages, each failing with file and line: Jackson's TOML parser (syntax), {@link RecordBinder} onto
 * the records of {@link ConfigFile} with unknown keys and wrong value types rejected, then {@link ConfigValidator}
 * for values and cross-checks, which reports every problem it finds at once. Lines for the last two stages come
 * from {@link SourceLines}, because the parser keeps no locations once the document is a tree.
 */
public final class ConfigLoader {

    private static final Set<String> DURATION_KEYS = Set.of("shutdown-grace", "connect", "handshake", "dial",
            "idle", "failover-backoff", "flow-idle-timeout", "connect-timeout", "handshake-timeout", "ttl", "timeout");

    private ConfigLoader() {
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
        TomlValue.Table tree;
        try {
            tree = TomlValue.parse(toml);
        } catch (TomlStreamReadException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new ConfigException(List.of(source + (line > 0 ? ":" + line : "") + ": TOML syntax error: "
                    + e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new ConfigException(List.of(source + ": cannot read TOML: " + e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ConfigException(List.of(source + ": cannot read TOML: " + e.getMessage()));
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
            file = RecordBinder.bind(tree, ConfigFile.class);
        } catch (RecordBinder.BindException e) {
            List<String> path = e.path();
            String problem;
            if (e.mismatch() instanceof RecordBinder.Mismatch.UnknownKey unknown) {
                List<String> container = path.subList(0, path.size() - 1);
                problem = locator.at(path, container, unknownKey(unknown.key(), container, unknown.known())).text();
            } else if (e.mismatch() instanceof RecordBinder.Mismatch.WrongType wrong) {
                problem = locator.at(path, wrongType(path, wrong)).text();
            } else {
                RecordBinder.Mismatch.OutOfRange range = (RecordBinder.Mismatch.OutOfRange) e.mismatch();
                problem = locator.at(path, "the integer " + range.value() + " is out of range").text();
            }
            throw new ConfigException(List.of(problem));
        }
        return ConfigValidator.validate(file, locator, Optional.of(source));
    }

    private static String unknownKey(String key, List<String> container, List<String> known) {
        String suggestion = known.stream()
                .filter(n -> editDistance(n, key) <= 2)
                .findFirst().map(n -> "did you mean \"" + n + "\"? ").orElse("");
        String where = container.isEmpty() ? "unknown top-level key \"" : "unknown key \"";
        String listed = container.isEmpty() ? "tables are " : "known keys: ";
        return where + key + "\" (" + suggestion + listed + String.join(", ", known) + ")";
    }

    private static String wrongType(List<String> path, RecordBinder.Mismatch.WrongType wrong) {
        TomlValue found = wrong.found();
        String message = "expected " + wrong.expected() + ", found " + found.describe();
        String key = path.isEmpty() ? "" : path.get(path.size() - 1);
        if (DURATION_KEYS.contains(key) && (found instanceof TomlValue.Int || found instanceof TomlValue.Decimal)) {
            String number = found instanceof TomlValue.Int integer ? integer.value().toString()
                    : String.valueOf(((TomlValue.Decimal) found).value());
            message += "; durations are strings with a unit, such as \"" + number + "s\"";
        } else if (path.equals(List.of("listener")) && found instanceof TomlValue.Table) {
            message += "; write [[listener]] with double brackets, once per listener";
        } else if (key.equals("hops") && found instanceof TomlValue.Text) {
            message += "; write hops = [\"scheme://host:port\", ...], even for a single hop";
        }
        return message;
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
