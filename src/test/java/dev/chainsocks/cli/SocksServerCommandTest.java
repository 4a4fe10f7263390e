package dev.chainsocks.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chainsocks.proto.Socks4Policy;
import dev.chainsocks.server.IdentdCheck;
import dev.chainsocks.server.SocksServerConfig;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** How {@code socks-server} options become a server configuration (parsed only; no server is started). */
class SocksServerCommandTest {

    private static SocksServerConfig parse(String... args) throws IOException {
        CommandLine.ParseResult result = new CommandLine(new Main()).parseArgs(args);
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
}
