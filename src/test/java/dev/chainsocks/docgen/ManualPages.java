package dev.chainsocks.docgen;

import dev.chainsocks.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Writes, at build time, what the package installs for operators, from the sources that define it so it cannot drift:
 *
 * <ul>
 *   <li>{@code adoc/chainsocks.adoc}: chainsocks(1), from picocli's model of the commands through picocli-codegen's
 *       {@link ManPageGenerator}, one section per subcommand (synopsis, description, options);</li>
 *   <li>{@code adoc/chainsocks.toml.adoc}: chainsocks.toml(5), from docs/configuration.md
 *       ({@link MarkdownToManPage});</li>
 *   <li>{@code completion/chainsocks}: the bash completion, from picocli's {@link AutoComplete}.</li>
 * </ul>
 *
 * <p>Asciidoctor's manpage backend then turns the AsciiDoc into troff (pom.xml, prepare-package).
 *
 * <p>Usage: {@code ManualPages CONFIGURATION_MD OUTPUT_DIR}.
 */
public final class ManualPages {

    private static final String START = "// tag::picocli-generated-man-section-";
    private static final String END = "// end::picocli-generated-man-section-";
    /** Sections whose text lines picocli copied from the commands' descriptions: plain text, not AsciiDoc. */
    private static final List<String> DESCRIPTION_SECTIONS = List.of("description");
    private static final List<String> OPTION_SECTIONS = List.of("options", "arguments");

    private ManualPages() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ManualPages CONFIGURATION_MD OUTPUT_DIR");
            System.exit(2);
        }
        Path configurationMarkdown = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path adoc = Files.createDirectories(out.resolve("adoc"));
        Path perCommand = Files.createDirectories(out.resolve("picocli"));

        CommandLine commandLine = Main.commandLine();
        List<CommandSpec> commands = visibleCommands(commandLine.getCommandSpec());
        int status = ManPageGenerator.generateManPage(perCommand.toFile(), null, new boolean[0], true,
                commands.toArray(new CommandSpec[0]));
        if (status != 0) {
            throw new IllegalStateException("picocli ManPageGenerator failed with status " + status);
        }
        Files.writeString(adoc.resolve("chainsocks.adoc"), commandPage(commands, perCommand), StandardCharsets.UTF_8);

        String markdown = Files.readString(configurationMarkdown, StandardCharsets.UTF_8);
        Files.writeString(adoc.resolve("chainsocks.toml.adoc"),
                MarkdownToManPage.convert(configurationMarkdown.getFileName().toString(), markdown),
                StandardCharsets.UTF_8);

        Path completion = Files.createDirectories(out.resolve("completion"));
        // bash-completion sources the file; picocli's "#!/usr/bin/env bash" line would make it look like a script.
        String script = AutoComplete.bash("chainsocks", commandLine).replaceFirst("\\A#![^\n]*\n", "");
        Files.writeString(completion.resolve("chainsocks"), script, StandardCharsets.UTF_8);
    }

    /** The root command and every subcommand at any depth that {@code --help} shows, depth first. */
    static List<CommandSpec> visibleCommands(CommandSpec root) {
        List<CommandSpec> all = new ArrayList<>();
        all.add(root);
        for (CommandLine sub : root.subcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            // Aliases map to the same CommandLine; keep each command once.
            if (!spec.usageMessage().hidden() && all.stream().noneMatch(seen -> seen == spec)) {
                for (CommandSpec nested : visibleCommands(spec)) {
                    if (all.stream().noneMatch(seen -> seen == nested)) {
                        all.add(nested);
                    }
                }
            }
        }
        return all;
    }

    /**
     * chainsocks(1): the root command's name, synopsis, description and options, then "Commands" with one
     * subsection per subcommand, each made of the sections picocli generated for that command.
     */
    static String commandPage(List<CommandSpec> commands, Path perCommand) throws IOException {
        CommandSpec root = commands.get(0);
        String rootPage = read(perCommand, root);
        StringBuilder page = new StringBuilder();
        page.append(":doctype: manpage\n")
                .append("= chainsocks(1)\n\n")
                .append(section(rootPage, "name", true))
                .append("== Synopsis\n\n");
        for (CommandSpec command : commands) {
            page.append(section(read(perCommand, command), "synopsis", false)).append('\n');
        }
        page.append(section(rootPage, "description", true))
                .append(section(rootPage, "options", true))
                .append("== Commands\n\n");
        for (CommandSpec command : commands.subList(1, commands.size())) {
            String generated = read(perCommand, command);
            page.append("=== chainsocks ").append(command.qualifiedName(" ").substring("chainsocks ".length()))
                    .append("\n\n")
                    .append(section(generated, "synopsis", false)).append('\n')
                    .append(section(generated, "description", false)).append('\n');
            String options = section(generated, "options", false);
            if (!options.isBlank()) {
                page.append("Options:\n\n").append(options).append('\n');
            }
            String arguments = section(generated, "arguments", false);
            if (!arguments.isBlank()) {
                page.append("Arguments:\n\n").append(arguments).append('\n');
            }
        }
        page.append("== Exit status\n\n")
                .append(Main.EXIT_OK).append("::\n  Success.\n")
                .append(Main.EXIT_FAILURE).append("::\n  A runtime failure: the service could not start or stopped"
                        + " on an error, a control command got no answer or was refused.\n")
                .append(Main.EXIT_USAGE).append("::\n  A usage or configuration error; the message names the flag"
                        + " or the file and line.\n\n")
                .append("== Files\n\n")
                .append("_/etc/chainsocks/chainsocks.toml_::\n  The configuration, read by *run*, *check* and"
                        + " *rules* when neither *--config* nor *--listen* is given. See *chainsocks.toml*(5).\n")
                .append("_/etc/chainsocks/firewall.env_::\n  Settings of chainsocks-firewall.service and"
                        + " _/usr/lib/chainsocks/firewall_.\n")
                .append("_/run/chainsocks/control.sock_::\n  The control socket of the service, used by *status*,"
                        + " *connections* and *reload*.\n\n")
                .append("== See also\n\n")
                .append("*chainsocks.toml*(5), *systemctl*(1), *journalctl*(1), *iptables*(8), *nft*(8);"
                        + " the documentation in _/usr/share/doc/chainsocks/_.\n");
        return page.toString();
    }

    private static String read(Path perCommand, CommandSpec command) throws IOException {
        String name = command.qualifiedName("-");
        return Files.readString(perCommand.resolve(name + ".adoc"), StandardCharsets.UTF_8);
    }

    /**
     * The text between picocli's {@code tag::picocli-generated-man-section-NAME} markers, with or without its own
     * "== Heading" line. picocli copies the commands' descriptions into the AsciiDoc as they are, so a "***" there
     * would become bold text: every line of description text is passed through literally, and the description's
     * own line breaks (its examples are one per line) are kept as in {@code --help}.
     */
    static String section(String generated, String name, boolean withHeading) {
        int start = generated.indexOf(START + name + "[]");
        int end = generated.indexOf(END + name + "[]");
        if (start < 0 || end < start) {
            throw new IllegalStateException("picocli's generated page has no section '" + name + "'");
        }
        List<String> lines = List.of(generated.substring(generated.indexOf('\n', start) + 1, end).split("\n", -1));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("== ")) {
                if (withHeading) {
                    text.append(line).append('\n');
                }
            } else if (line.isBlank()) {
                text.append('\n');
            } else if (DESCRIPTION_SECTIONS.contains(name)) {
                boolean more = i + 1 < lines.size() && !lines.get(i + 1).isBlank();
                text.append(literal(line)).append(more ? " +\n" : "\n");
            } else if (OPTION_SECTIONS.contains(name) && !line.endsWith("::")) {
                text.append("  ").append(literal(line.strip())).append('\n');
            } else {
                text.append(line).append('\n');
            }
        }
        return text.toString().strip() + "\n\n";
    }

    private static String literal(String line) {
        return "pass:c[" + line.replace("]", "\\]") + "]";
    }
}
