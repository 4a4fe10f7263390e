package dev.chainsocks.gssapi;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads what an MIT Kerberos credential cache file (format versions 3 and 4, {@code FILE:} caches as {@code kinit}
 * writes them) says about its ticket-granting ticket, to explain a failed login: the JDK only says "Unable to obtain
 * Principal Name for authentication" when the ticket there has expired. Used after a failure only; blocking.
 */
final class CredentialCacheFile {

    /** What the cache holds: its principal, and the end time of its newest ticket-granting ticket, if any. */
    record Contents(String principal, Optional<Instant> ticketGrantingTicketEnd) {
    }

    private CredentialCacheFile() {
    }

    /** Empty when the file is missing or not a cache of a version read here. */
    static Optional<Contents> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(parse(ByteBuffer.wrap(bytes)));
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    static Contents parse(ByteBuffer in) {
        int version = in.getShort() & 0xffff;
        if (version != 0x0503 && version != 0x0504) {
            return null;
        }
        if (version == 0x0504) {
            int headerLength = in.getShort() & 0xffff;
            in.position(in.position() + headerLength);
        }
        String principal = principal(in);
        Instant newest = null;
        while (in.hasRemaining()) {
            principal(in); // client
            List<String> server = components(in);
            in.getShort(); // enctype
            skipData(in); // key
            in.getInt(); // authtime
            in.getInt(); // starttime
            Instant end = Instant.ofEpochSecond(in.getInt() & 0xffffffffL);
            in.getInt(); // renew till
            in.get(); // is_skey
            in.getInt(); // flags
            skipTagged(in); // addresses
            skipTagged(in); // authdata
            skipData(in); // ticket
            skipData(in); // second ticket
            if (!server.isEmpty() && server.get(0).equals("krbtgt") && (newest == null || end.isAfter(newest))) {
                newest = end;
            }
        }
        return new Contents(principal, Optional.ofNullable(newest));
    }

    private static String principal(ByteBuffer in) {
        List<String> parts = components(in);
        String realm = parts.remove(parts.size() - 1);
        return String.join("/", parts) + "@" + realm;
    }

    /** A principal's components, then its realm last. */
    private static List<String> components(ByteBuffer in) {
        in.getInt(); // name type
        int count = in.getInt();
        if (count < 0 || count > 64) {
            throw new IllegalArgumentException("principal with " + count + " components");
        }
        String realm = string(in);
        List<String> parts = new ArrayList<>(count + 1);
        for (int i = 0; i < count; i++) {
            parts.add(string(in));
        }
        parts.add(realm);
        return parts;
    }

    private static String string(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("string of " + length + " bytes");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void skipData(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("data of " + length + " bytes");
        }
        in.position(in.position() + length);
    }

    /** Addresses or authdata: a count, then each a 16-bit type and data. */
    private static void skipTagged(ByteBuffer in) {
        int count = in.getInt();
        if (count < 0 || count > 1024) {
            throw new IllegalArgumentException(count + " entries");
        }
        for (int i = 0; i < count; i++) {
            in.getShort();
            skipData(in);
        }
    }
}
