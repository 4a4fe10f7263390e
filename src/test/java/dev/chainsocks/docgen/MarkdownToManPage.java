package dev.chainsocks.docgen;

import java.util.ArrayList;
import java.util.List;
import org.commonmark.ext.gfm.tables.TableBlock;
import org.commonmark.ext.gfm.tables.TableBody;
import org.commonmark.ext.gfm.tables.TableCell;
import org.commonmark.ext.gfm.tables.TableHead;
import org.commonmark.ext.gfm.tables.TableRow;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.node.BulletList;
import org.commonmark.node.Code;
import org.commonmark.node.Emphasis;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.HardLineBreak;
import org.commonmark.node.Heading;
import org.commonmark.node.IndentedCodeBlock;
import org.commonmark.node.Link;
import org.commonmark.node.ListItem;
import org.commonmark.node.Node;
import org.commonmark.node.OrderedList;
import org.commonmark.node.Paragraph;
import org.commonmark.node.SoftLineBreak;
import org.commonmark.node.StrongEmphasis;
import org.commonmark.node.Text;
import org.commonmark.parser.IncludeSourceSpans;
import org.commonmark.parser.Parser;

/**
 * docs/configuration.md as the AsciiDoc of chainsocks.toml(5). The Markdown is parsed (CommonMark with GitHub tables)
 * and written out again in AsciiDoc, which Asciidoctor's manpage backend turns into troff: the document's title
 * becomes NAME, its introduction DESCRIPTION, each "##" a section and each "###" a subsection.
 *
 * <p>Only the constructs the document uses are known; anything else (a quote, an image, raw HTML) fails the build
 * naming it, rather than vanishing from the manual page. Text is written inside {@code pass:c[...]}, so characters
 * that mean something in AsciiDoc ({@code *}, {@code _}, {@code --}, {@code {}}) stay what they are.
 */
final class MarkdownToManPage {

    private final StringBuilder out = new StringBuilder();
    private final String source;

    private MarkdownToManPage(String source) {
        this.source = source;
    }

    /** Converts {@code markdown}; {@code source} names it in errors. */
    static String convert(String source, String markdown) {
        Parser parser = Parser.builder().extensions(List.of(TablesExtension.create()))
                .includeSourceSpans(IncludeSourceSpans.BLOCKS).build();
        Node document = parser.parse(markdown);
        MarkdownToManPage converter = new MarkdownToManPage(source);
        converter.header();
        converter.blocks(document, 0);
        return converter.out.toString();
    }

    private void header() {
        out.append(":doctype: manpage\n")
                .append("= chainsocks.toml(5)\n\n")
                .append("== Name\n\n")
                .append("chainsocks.toml - configuration file of the chainsocks redirector\n\n")
                .append("== Synopsis\n\n")
                .append("_/etc/chainsocks/chainsocks.toml_\n\n");
    }

    private void blocks(Node parent, int listDepth) {
        for (Node node = parent.getFirstChild(); node != null; node = node.getNext()) {
            block(node, listDepth);
        }
    }

    private void block(Node node, int listDepth) {
        if (node instanceof Heading heading) {
            switch (heading.getLevel()) {
                case 1 -> out.append("== Description\n\n");
                case 2 -> out.append("== ").append(inlines(heading)).append("\n\n");
                case 3 -> out.append("=== ").append(inlines(heading)).append("\n\n");
                default -> throw unsupported(node, "a heading of level " + heading.getLevel());
            }
        } else if (node instanceof Paragraph) {
            out.append(inlines(node)).append("\n\n");
        } else if (node instanceof FencedCodeBlock code) {
            literal(code.getLiteral());
        } else if (node instanceof IndentedCodeBlock code) {
            literal(code.getLiteral());
        } else if (node instanceof BulletList || node instanceof OrderedList) {
            list(node, listDepth + 1);
            out.append('\n');
        } else if (node instanceof TableBlock) {
            table(node);
        } else {
            throw unsupported(node, node.getClass().getSimpleName());
        }
    }

    private void literal(String text) {
        out.append("----\n").append(text.endsWith("\n") ? text : text + "\n").append("----\n\n");
    }

    /** A list item's first paragraph on the marker line, further blocks attached with "+". */
    private void list(Node list, int depth) {
        String marker = (list instanceof OrderedList ? "." : "*").repeat(depth);
        for (Node item = list.getFirstChild(); item != null; item = item.getNext()) {
            if (!(item instanceof ListItem)) {
                throw unsupported(item, item.getClass().getSimpleName() + " in a list");
            }
            boolean first = true;
            for (Node child = item.getFirstChild(); child != null; child = child.getNext()) {
                if (first && child instanceof Paragraph) {
                    out.append(marker).append(' ').append(inlines(child)).append('\n');
                } else if (child instanceof BulletList || child instanceof OrderedList) {
                    list(child, depth + 1);
                } else {
                    if (first) {
                        out.append(marker).append(" {empty}\n");
                    }
                    int mark = out.length();
                    block(child, depth);
                    out.insert(mark, "+\n");
                    // A block inside an item must not end with a blank line, or it ends the list.
                    while (out.length() > 0 && out.charAt(out.length() - 1) == '\n'
                            && out.length() > 1 && out.charAt(out.length() - 2) == '\n') {
                        out.setLength(out.length() - 1);
                    }
                }
                first = false;
            }
        }
    }

    /**
     * A table as a definition list, which reads better in a terminal than a grid of narrow columns: the first cell
     * is the term, the others follow as "Header: value", except a last column named "Meaning", which is the text.
     */
    private void table(Node table) {
        List<String> headers = new ArrayList<>();
        for (Node part = table.getFirstChild(); part != null; part = part.getNext()) {
            if (!(part instanceof TableHead) && !(part instanceof TableBody)) {
                throw unsupported(part, part.getClass().getSimpleName() + " in a table");
            }
            for (Node row = part.getFirstChild(); row != null; row = row.getNext()) {
                if (!(row instanceof TableRow)) {
                    throw unsupported(row, row.getClass().getSimpleName() + " in a table");
                }
                List<String> cells = new ArrayList<>();
                for (Node cell = row.getFirstChild(); cell != null; cell = cell.getNext()) {
                    if (!(cell instanceof TableCell)) {
                        throw unsupported(cell, cell.getClass().getSimpleName() + " in a table row");
                    }
                    cells.add(inlines(cell));
                }
                if (part instanceof TableHead) {
                    headers = cells.stream().map(MarkdownToManPage::plainHeader).toList();
                    continue;
                }
                if (cells.size() != headers.size() || cells.isEmpty()) {
                    throw unsupported(row, "a table row with " + cells.size() + " cells under " + headers.size()
                            + " headers");
                }
                out.append(cells.get(0)).append("::\n");
                List<String> labelled = new ArrayList<>();
                String text = "";
                for (int i = 1; i < cells.size(); i++) {
                    if (i == cells.size() - 1 && headers.get(i).equals("Meaning")) {
                        text = cells.get(i);
                    } else {
                        labelled.add(pass(headers.get(i) + ": ") + cells.get(i));
                    }
                }
                out.append("  ").append(String.join(pass("; "), labelled));
                if (!labelled.isEmpty() && !text.isEmpty()) {
                    out.append(pass(". "));
                }
                out.append(text).append('\n');
            }
        }
        // A line comment ends the list, so a list that follows is not taken into its last entry.
        out.append("\n//-\n\n");
    }

    /** A header cell's text, from the pass:c[...] it was written as. */
    private static String plainHeader(String written) {
        return written.replaceAll("^pass:c\\[(.*)\\]$", "$1").replace("\\]", "]");
    }

    private String inlines(Node parent) {
        StringBuilder text = new StringBuilder();
        for (Node node = parent.getFirstChild(); node != null; node = node.getNext()) {
            if (node instanceof Text plain) {
                text.append(pass(plain.getLiteral()));
            } else if (node instanceof Code code) {
                text.append("``").append(pass(code.getLiteral())).append("``");
            } else if (node instanceof Emphasis) {
                text.append("__").append(inlines(node)).append("__");
            } else if (node instanceof StrongEmphasis) {
                text.append("**").append(inlines(node)).append("**");
            } else if (node instanceof Link) {
                // Links point into the source tree; the page keeps their text.
                text.append(inlines(node));
            } else if (node instanceof SoftLineBreak) {
                text.append('\n');
            } else if (node instanceof HardLineBreak) {
                text.append(" +\n");
            } else {
                throw unsupported(node, node.getClass().getSimpleName());
            }
        }
        return text.toString();
    }

    /** Text that AsciiDoc must not interpret: only &lt; &gt; &amp; are escaped (for the backend). */
    private static String pass(String text) {
        if (text.isEmpty()) {
            return "";
        }
        return "pass:c[" + text.replace("]", "\\]") + "]";
    }

    private IllegalStateException unsupported(Node node, String what) {
        Node block = node;
        while (block.getSourceSpans().isEmpty() && block.getParent() != null) {
            block = block.getParent();
        }
        String line = block.getSourceSpans().isEmpty() ? ""
                : ":" + (block.getSourceSpans().get(0).getLineIndex() + 1);
        return new IllegalStateException(source + line + ": " + what + " cannot be written into the manual page yet;"
                + " extend " + MarkdownToManPage.class.getName() + " or avoid it");
    }
}
