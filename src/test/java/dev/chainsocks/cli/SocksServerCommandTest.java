package dev.chainsocks.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Socks4Admission;
import dev.chainsocks.proto.Socks4Policy;
import dev.chainsocks.server.GssapiAcceptance;
import dev.chainsocks.server.IdentdCheck;
import dev.chainsocks.server.SocksServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** How {@code socks-server} options become a server configuration (parsed only; no server is started). */
class SocksServerCommandTest {

    private static SocksServerConfig parse(String... args) throws IOException {
        CommandLine.ParseResult result = Main.commandLine().parseArgs(args);
        SocksServerCommand command = (SocksServerCommand) result.subcommand().commandSpec().userObject();
        return command.config();
    }

    @Test
    void usersRefuseSocks4ByDefault() throws IOException {
        SocksServerConfig config = parse("socks-server", "--user", "alice:s3cret");
        assertThat(config.users().socks4Policy()).isEqualTo(Socks4Policy.REFUSE);
        assertThat(config.warnings()).isEmpty();
    }

    @Test
    void socks4UseridOnlyIsAnExplicitWarnedChoice() throws IOException {
        SocksServerConfig config = parse("socks-server", "--user", "alice:s3cret", "--socks4-userid-only");
        assertThat(config.users().socks4Policy()).isEqualTo(Socks4Policy.USERID_ONLY);
        assertThat(config.warnings()).singleElement().asString().contains("ANYONE WHO KNOWS A USER NAME GETS IN");
    }

    @Test
    void socks4UseridOnlyWithoutUsersIsAUsageError() {
        assertThatThrownBy(() -> parse("socks-server", "--socks4-userid-only"))
                .isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("--socks4-userid-only needs users");
    }

    @Test
    void socks4IdentdAsksPort113WithinTheTimeoutAndIsWarned() throws IOException {
        SocksServerConfig config = parse("socks-server", "--user", "alice:s3cret", "--socks4-identd",
                "--identd-timeout", "3s", "--allow-from", "10.0.0.0/8");
        assertThat(config.users().socks4Policy()).isEqualTo(Socks4Policy.IDENTD);
        assertThat(config.identd()).isEqualTo(new IdentdCheck(113, Duration.ofSeconds(3)));
        assertThat(config.warnings()).singleElement().asString().contains("the client host's word");
        assertThat(parse("socks-server", "--user", "alice:s3cret").identd().timeout()).hasSeconds(5);
    }

    @Test
    void socks4IdentdNeedsUsersAndExcludesUseridOnly() {
        assertThatThrownBy(() -> parse("socks-server", "--socks4-identd"))
                .isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("--socks4-identd needs users");
        assertThatThrownBy(() -> parse("socks-server", "--user", "alice:s3cret", "--socks4-identd",
                "--socks4-userid-only"))
                .isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("exclude each other");
    }

    @Test
    void gssapiKeytabMakesGssapiTheOnlyWayInAndAllowsAPublicListener(@TempDir Path dir) throws IOException {
        Path keytab = Files.write(dir.resolve("server.keytab"), new byte[] {0x05, 0x02});
        SocksServerConfig config = parse("socks-server", "--listen", "0.0.0.0:1080", "--gssapi-keytab",
                keytab.toString(), "--gssapi-principal", "rcmd/proxy.example@EXAMPLE.TEST");
        assertThat(config.gssapi()).contains(new GssapiAcceptance(keytab.toAbsolutePath(),
                Optional.of("rcmd/proxy.example@EXAMPLE.TEST")));
        config.checkSafe();
        assertThat(config.authenticator().required()).as("no password or SOCKS4 user id admits").isTrue();
        assertThat(config.authenticator().verify("alice", "anything")).isFalse();
        assertThat(config.authenticator().admitSocks4("alice")).isEqualTo(Socks4Admission.REFUSED_NO_PASSWORD);
        assertThat(parse("socks-server", "--user", "alice:s3cret", "--gssapi-keytab", keytab.toString())
                .authenticator().verify("alice", "s3cret")).as("users keep their passwords").isTrue();
    }

    @Test
    void gssapiOptionsAreChecked(@TempDir Path dir) {
        assertThatThrownBy(() -> parse("socks-server", "--gssapi-principal", "rcmd/x"))
                .isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("--gssapi-principal needs --gssapi-keytab");
        assertThatThrownBy(() -> parse("socks-server", "--gssapi-keytab", dir.resolve("missing").toString()))
                .isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("not a readable file");
    }

    @Test
    void gssapiProtectionIsTheLeastAgreedLevel(@TempDir Path dir) throws IOException {
        Path keytab = Files.write(dir.resolve("server.keytab"), new byte[] {0x05, 0x02});
        assertThat(parse("socks-server", "--gssapi-keytab", keytab.toString()).gssapi().orElseThrow()
                .minimumProtection()).isEqualTo(dev.chainsocks.proto.socks5.Socks5GssapiProtection.NONE);
        assertThat(parse("socks-server", "--gssapi-keytab", keytab.toString(), "--gssapi-protection",
                "confidentiality").gssapi().orElseThrow().minimumProtection())
                .isEqualTo(dev.chainsocks.proto.socks5.Socks5GssapiProtection.CONFIDENTIALITY);
        assertThatThrownBy(() -> parse("socks-server", "--gssapi-keytab", keytab.toString(), "--gssapi-protection",
                "clear")).isInstanceOf(Main.UsageException.class)
                .hasMessage("--gssapi-protection clear: write none, integrity or confidentiality");
        assertThatThrownBy(() -> parse("socks-server", "--gssapi-protection", "integrity"))
                .isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("--gssapi-protection needs --gssapi-keytab");
    }
}
