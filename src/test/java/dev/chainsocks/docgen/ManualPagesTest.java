package dev.chainsocks.docgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generators behind chainsocks(1), chainsocks.toml(5) and the completion; the pages' rendering is DebPackageE2E's. */
class ManualPagesTest {

    @TempDir
    Path dir;

    @Test
    void everyVisibleCommandGetsItsOwnSectionWithSynopsisAndOptions() throws Exception {
        Path configuration = Files.writeString(dir.resolve("configuration.md"), "# Configuration\n\nText.\n");

        ManualPages.main(new String[] {configuration.toString(), dir.resolve("out").toString()});

        String page = Files.readString(dir.resolve("out/adoc/chainsocks.adoc"), StandardCharsets.UTF_8);
        assertThat(page).startsWith(":doctype: manpage\n= chainsocks(1)\n");
        for (String command : new String[] {"run", "check", "rules", "status", "connections", "reload",
                "socks-server"}) {
            assertThat(page).contains("\n=== chainsocks " + command + "\n\n*chainsocks " + command + "*");
        }
        assertThat(page).contains("*-c*, *--config*=_FILE_::").contains("== Exit status");
        // Descriptions are --help text: "***" stays three asterisks, and their lines stay lines.
        assertThat(page).contains("pass:c[Validates the configuration and prints the effective settings (passwords"
                + " as ***).] +\n");
        String completion = Files.readString(dir.resolve("out/completion/chainsocks"), StandardCharsets.UTF_8);
        assertThat(completion).doesNotStartWith("#!").contains("complete -F _complete_chainsocks");
    }

    @Test
    void tablesBecomeDefinitionListsAndTextStaysLiteral() {
        String markdown = """
                # Configuration

                Durations such as `"5m"` -- never *bare* [numbers](x.md).

                ## `[service]`

                | Key | Type | Default | Meaning |
                |---|---|---|---|
                | `mark` | integer | none | `SO_MARK` on upstream [sockets]. |
                """;

        String adoc = MarkdownToManPage.convert("configuration.md", markdown);

        assertThat(adoc).contains("== Description\n\n")
                .contains("pass:c[Durations such as ]``pass:c[\"5m\"]``pass:c[ -- never ]__pass:c[bare]__"
                        + "pass:c[ ]pass:c[numbers]pass:c[.]")
                .contains("== ``pass:c[[service\\]]``\n")
                .contains("``pass:c[mark]``::\n  pass:c[Type: ]pass:c[integer]pass:c[; ]pass:c[Default: ]"
                        + "pass:c[none]pass:c[. ]``pass:c[SO_MARK]``pass:c[ on upstream [sockets\\].]\n");
    }

    @Test
    void anUnknownConstructFailsNamingTheLine() {
        assertThatThrownBy(() -> MarkdownToManPage.convert("configuration.md", "# Configuration\n\n> quoted\n"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("configuration.md:3: BlockQuote cannot be written into the manual page");
    }
}
