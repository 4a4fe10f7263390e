package dev.chainsocks.server;

import dev.chainsocks.proto.Authenticator;
import dev.chainsocks.proto.Socks4Admission;
import dev.chainsocks.proto.Socks4Policy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Users allowed to use the bundled server, from {@code --user name:password} flags or a file with one
 * {@code name:password} per line ({@code #} starts a comment). Passwords are compared in constant time.
 *
 * <p>SOCKS4 and SOCKS4a clients, which cannot send a password, are refused when there are users
 * ({@link Socks4Policy#REFUSE}) unless {@link #withSocks4Policy} says otherwise.
 */
public final class UserList implements Authenticator {

    private final Map<String, byte[]> passwords;
    private final Socks4Policy socks4Policy;

    private UserList(Map<String, byte[]> passwords, Socks4Policy socks4Policy) {
        this.passwords = Map.copyOf(passwords);
        this.socks4Policy = Objects.requireNonNull(socks4Policy, "socks4Policy");
    }

    private UserList(Map<String, byte[]> passwords) {
        this(passwords, Socks4Policy.REFUSE);
    }

    public static UserList empty() {
        return new UserList(Map.of());
    }

    /** The same users, with SOCKS4/4a requests decided by {@code policy}. */
    public UserList withSocks4Policy(Socks4Policy policy) {
        return new UserList(passwords, policy);
    }

    public Socks4Policy socks4Policy() {
        return socks4Policy;
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
        return new UserList(merged, socks4Policy);
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
    public Socks4Admission admitSocks4(String userId) {
        return passwords.isEmpty() ? Socks4Admission.ADMITTED : socks4Policy.admit(userId, passwords::containsKey);
    }

    @Override
    public String toString() {
        if (passwords.isEmpty()) {
            return "no authentication";
        }
        return passwords.size() + " user(s), " + switch (socks4Policy) {
            case REFUSE -> "SOCKS4 refused (no password)";
            case USERID_ONLY -> "SOCKS4 admitted by user id alone";
            case IDENTD -> "SOCKS4 admitted when identd confirms the user id";
        };
    }
}
