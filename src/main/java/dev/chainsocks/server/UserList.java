package dev.chainsocks.server;

import dev.chainsocks.proto.Authenticator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Users allowed to use the bundled server, from {@code --user name:password} flags or a file with one
 * {@code name:password} per line ({@code #} starts a comment). Passwords are compared in constant time.
 */
public final class UserList implements Authenticator {

    private final Map<String, byte[]> passwords;

    private UserList(Map<String, byte[]> passwords) {
        this.passwords = Map.copyOf(passwords);
    }

    public static UserList empty() {
        return new UserList(Map.of());
    }

    /** Parses {@code name:password} entries; the password may itself contain colons. */
    public static UserList of(List<String> entries) {
        Map<String, byte[]> users = new LinkedHashMap<>();
        for (String entry : entries) {
            add(users, entry, "--user " + redact(entry));
        }
        return new UserList(users);
    }

    public static UserList load(Path file) throws IOException {
        Map<String, byte[]> users = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            add(users, line, file + ":" + (i + 1));
        }
        return new UserList(users);
    }

    public UserList plus(UserList other) {
        Map<String, byte[]> merged = new LinkedHashMap<>(passwords);
        merged.putAll(other.passwords);
        return new UserList(merged);
    }

    private static void add(Map<String, byte[]> users, String entry, String where) {
        int colon = entry.indexOf(':');
        if (colon <= 0 || colon == entry.length() - 1) {
            throw new IllegalArgumentException(where + ": expected name:password");
        }
        String name = entry.substring(0, colon);
        byte[] password = entry.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        if (name.getBytes(StandardCharsets.UTF_8).length > 255 || password.length > 255) {
            throw new IllegalArgumentException(where + ": name and password must be at most 255 bytes each");
        }
        if (users.putIfAbsent(name, password) != null) {
            throw new IllegalArgumentException(where + ": user \"" + name + "\" is listed twice");
        }
    }

    private static String redact(String entry) {
        int colon = entry.indexOf(':');
        return colon < 0 ? entry : entry.substring(0, colon) + ":***";
    }

    public int size() {
        return passwords.size();
    }

    @Override
    public boolean required() {
        return !passwords.isEmpty();
    }

    @Override
    public boolean verify(String user, String password) {
        byte[] expected = passwords.get(user);
        byte[] given = password.getBytes(StandardCharsets.UTF_8);
        if (expected == null) {
            MessageDigest.isEqual(given, given);
            return false;
        }
        return MessageDigest.isEqual(expected, given);
    }

    @Override
    public boolean knowsUser(String user) {
        return passwords.containsKey(user);
    }

    @Override
    public String toString() {
        return passwords.isEmpty() ? "no authentication" : passwords.size() + " user(s)";
    }
}
