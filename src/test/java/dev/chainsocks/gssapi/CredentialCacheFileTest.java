package dev.chainsocks.gssapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MIT credential cache file format as kinit writes it (version 4, with its time-offset header tag). */
class CredentialCacheFileTest {

    private static final Instant EARLY = Instant.parse("2026-12-01T08:00:00Z");
    private static final Instant LATE = Instant.parse("2026-12-01T09:00:00Z");

    private static void string(DataOutputStream out, String value) throws IOException {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static void principal(DataOutputStream out, String realm, String... components) throws IOException {
        out.writeInt(1);
        out.writeInt(components.length);
        string(out, realm);
        for (String component : components) {
            string(out, component);
        }
    }

    private static void credential(DataOutputStream out, Instant end, String... server) throws IOException {
        principal(out, "EXAMPLE.TEST", "alice");
        principal(out, "EXAMPLE.TEST", server);
        out.writeShort(18);
        string(out, "0123456789abcdef0123456789abcdef");
        out.writeInt((int) EARLY.getEpochSecond());
        out.writeInt((int) EARLY.getEpochSecond());
        out.writeInt((int) end.getEpochSecond());
        out.writeInt(0);
        out.write(0);
        out.writeInt(0x40e00000);
        out.writeInt(1); // one address
        out.writeShort(2);
        string(out, "\u00c6\u0012\u0001\u0002");
        out.writeInt(0); // no authdata
        string(out, "ticket bytes");
        string(out, "");
    }

    private static byte[] cache(boolean withTgt) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeShort(0x0504);
        out.writeShort(12);
        out.writeShort(1); // time offset tag
        out.writeShort(8);
        out.writeLong(0);
        principal(out, "EXAMPLE.TEST", "alice");
        credential(out, LATE, "X-CACHECONF:", "krb5_ccache_conf_data", "pa_type");
        if (withTgt) {
            credential(out, EARLY, "krbtgt", "EXAMPLE.TEST");
        }
        credential(out, LATE, "rcmd", "proxy.example");
        return bytes.toByteArray();
    }

    @Test
    void findsThePrincipalAndWhenItsTicketGrantingTicketEnds(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("krb5cc"), cache(true));
        assertThat(CredentialCacheFile.read(file)).contains(new CredentialCacheFile.Contents("alice@EXAMPLE.TEST",
                Optional.of(EARLY)));
    }

    @Test
    void aCacheWithoutTicketGrantingTicketMissingFilesAndGarbageAreToldApart(@TempDir Path dir) throws IOException {
        assertThat(CredentialCacheFile.read(Files.write(dir.resolve("service-only"), cache(false))))
                .contains(new CredentialCacheFile.Contents("alice@EXAMPLE.TEST", Optional.empty()));
        assertThat(CredentialCacheFile.read(dir.resolve("missing"))).isEmpty();
        assertThat(CredentialCacheFile.read(Files.write(dir.resolve("garbage"), new byte[] {5, 4, 0}))).isEmpty();
        byte[] truncated = cache(true);
        assertThat(CredentialCacheFile.read(Files.write(dir.resolve("truncated"),
                java.util.Arrays.copyOf(truncated, truncated.length - 3)))).isEmpty();
    }
}
