package dev.chainsocks.cli.top;

import dev.chainsocks.control.ControlClient;
import dev.chainsocks.service.ConnectionsReport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** Where {@code top} takes its samples from: the service's control socket, or a fixed series in tests. */
@FunctionalInterface
public interface ReportSource {

    /**
     * One sample.
     *
     * @throws IOException when there is none to be had, with a message for the user
     */
    ConnectionsReport fetch() throws IOException;

    /** Asks the service at {@code socket} for {@code connections --json}, waiting at most {@code timeout}. */
    static ReportSource controlSocket(Path socket, Duration timeout) {
        return () -> {
            String text = ControlClient.send(socket, "connections --json", timeout);
            if (text.startsWith("error:")) {
                throw new IOException("the service at " + socket + " answered \"" + text.strip()
                        + "\" (a chainsocks older than this one has no connections --json)");
            }
            try {
                return ConnectionsReport.parse(text);
            } catch (IllegalArgumentException e) {
                throw new IOException("the service at " + socket + " sent something else than a sample: "
                        + e.getMessage(), e);
            }
        };
    }
}
