package dev.chainsocks.cli.top;

import dev.chainsocks.service.ConnectionsReport;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStyle;
import org.jline.utils.Display;
import org.jline.utils.InfoCmp.Capability;
import org.jline.utils.NonBlockingReader;

/**
 * The full-screen view: the alternate screen, one sample every interval, redrawn in place (only the changed parts
 * are written), keys read between samples. {@code s} sorts by the next column, {@code q} (or Ctrl-C) quits and
 * gives the terminal back as it was.
 */
public final class FullScreen {

    /** What the keys do, on the summary line. */
    static final String KEYS = "[s] sort  [q] quit";

    private final Terminal terminal;
    private final ReportSource source;
    private final Duration interval;
    private final Sampler sampler = new Sampler();
    private final AtomicBoolean quit = new AtomicBoolean();
    private final AtomicBoolean resized = new AtomicBoolean();
    /** Held while a frame is written or the terminal given back, so a frame never lands after the restore. */
    private final Object drawing = new Object();
    /** Guarded by {@link #drawing}. */
    private boolean restored;
    private SortColumn sort;
    private Frame frame;
    private String problem;

    /** A view that shows {@code first} at once and takes the next sample an interval later. */
    public FullScreen(Terminal terminal, ReportSource source, ConnectionsReport first, SortColumn sort,
                      Duration interval) {
        this.terminal = terminal;
        this.source = source;
        this.sort = sort;
        this.interval = interval;
        this.frame = sampler.next(first);
    }

    /**
     * Runs until {@code q}, Ctrl-C or the end of input. A SIGTERM or SIGHUP ends it too: {@code onShutdown} gives
     * the terminal back (main screen, cursor, line mode and echo), since the JVM stops without running this
     * method's own clean-up.
     *
     * @param onShutdown registered before the terminal was built (see {@link RestoreOnShutdown})
     */
    public void run(RestoreOnShutdown onShutdown) throws IOException {
        Attributes saved = terminal.enterRawMode();
        Terminal.SignalHandler previousInt = terminal.handle(Terminal.Signal.INT, signal -> quit.set(true));
        Terminal.SignalHandler previousWinch = terminal.handle(Terminal.Signal.WINCH, signal -> resized.set(true));
        onShutdown.set(() -> restore(saved));
        terminal.puts(Capability.enter_ca_mode);
        terminal.puts(Capability.cursor_invisible);
        terminal.flush();
        try {
            loop();
        } finally {
            restore(saved);
            onShutdown.set(null);
            terminal.handle(Terminal.Signal.INT, previousInt);
            terminal.handle(Terminal.Signal.WINCH, previousWinch);
        }
    }

    /** Gives the terminal back as it was before {@link #run()}; once, from whichever thread comes first. */
    private void restore(Attributes saved) {
        synchronized (drawing) {
            if (restored) {
                return;
            }
            restored = true;
            quit.set(true);
            terminal.puts(Capability.cursor_visible);
            terminal.puts(Capability.exit_ca_mode);
            terminal.flush();
            terminal.setAttributes(saved);
        }
    }

    private void loop() throws IOException {
        Display display = new Display(terminal, true);
        display.resize(terminal.getHeight(), terminal.getWidth());
        display.clear();
        NonBlockingReader reader = terminal.reader();
        long nextSample = System.nanoTime() + interval.toNanos();
        while (!quit.get()) {
            if (System.nanoTime() - nextSample >= 0) {
                sample();
                nextSample = System.nanoTime() + interval.toNanos();
            }
            if (resized.getAndSet(false)) {
                display.clear();
                display.resize(terminal.getHeight(), terminal.getWidth());
            }
            synchronized (drawing) {
                if (restored) {
                    return;
                }
                display.update(screen(display.getColumns(), display.getRows()), 0);
                terminal.flush();
            }
            long wait = Math.max(1, (nextSample - System.nanoTime()) / 1_000_000);
            int key = reader.read(wait);
            if (key == NonBlockingReader.EOF) {
                return;
            }
            if (key >= 0) {
                onKey(key);
            }
        }
    }

    private void onKey(int key) {
        switch (key) {
            case 'q', 'Q', 3 -> quit.set(true);
            case 's', 'S' -> sort = sort.next();
            default -> {
                // Other keys do nothing.
            }
        }
    }

    private void sample() {
        try {
            frame = sampler.next(source.fetch());
            problem = null;
        } catch (IOException e) {
            problem = e.getMessage();
        }
    }

    private List<AttributedString> screen(int columns, int rows) {
        List<AttributedString> lines = new ArrayList<>(rows);
        int height = rows;
        if (problem != null) {
            lines.add(new AttributedString(TextTable.fit(problem, columns),
                    AttributedStyle.DEFAULT.foreground(AttributedStyle.RED).bold()));
            lines.add(new AttributedString(TextTable.fit("trying again every " + interval.toMillis() + "ms   "
                    + KEYS, columns)));
            height -= 2;
        }
        if (frame != null && height > 0) {
            for (Line line : TopView.render(frame, sort, columns, height, KEYS)) {
                lines.add(switch (line.kind()) {
                    case TITLE -> new AttributedString(line.text(), AttributedStyle.BOLD);
                    case HEADING -> new AttributedString(line.text(), AttributedStyle.INVERSE);
                    case PLAIN -> new AttributedString(line.text());
                });
            }
        }
        return lines;
    }
}
