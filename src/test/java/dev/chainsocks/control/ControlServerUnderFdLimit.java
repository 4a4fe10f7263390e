package dev.chainsocks.control;

import dev.chainsocks.log.Logging;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link ControlServerFdLimitTest}: a {@link ControlServer} on the socket named by the first
 * argument, in a process the test drives out of file descriptors.
 *
 * <p>The handler answers every command by trying to open /dev/null, and says whether it could: an answer that says
 * "Too many open files" was produced while the process had no descriptor to spare.
 *
 * <p>Talks on stdout: {@code listening}, {@code filled N (why)}, {@code freed}. Reads commands on stdin: {@code fill}
 * opens /dev/null until open fails; {@code free} closes those; end of input exits. The server's log goes to stderr.
 */
public final class ControlServerUnderFdLimit {

    private ControlServerUnderFdLimit() {
    }

    public static void main(String[] args) throws Exception {
        Logging.configure("info", false);
        Path socket = Path.of(args[0]);
        ControlServer.start(socket, command -> command + ": " + tryToOpenAFile());
        // One exchange loads every class an exchange needs (ours come from directories: loading one opens a file).
        if (!ControlClient.send(socket, "warm-up").startsWith("warm-up: ")) {
            throw new IllegalStateException("no answer to the warm-up request");
        }
        System.out.println("listening");

        List<FileInputStream> filler = new ArrayList<>();
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        String command;
        while ((command = commands.readLine()) != null) {
            if (command.equals("fill")) {
                String why;
                while (true) {
                    try {
                        filler.add(new FileInputStream("/dev/null"));
                    } catch (IOException e) {
                        why = e.getMessage();
                        break;
                    }
                }
                System.out.println("filled " + filler.size() + " (" + why + ")");
            } else if (command.equals("free")) {
                for (FileInputStream stream : filler) {
                    stream.close();
                }
                filler.clear();
                System.out.println("freed");
            }
        }
        System.exit(0);
    }

    private static String tryToOpenAFile() {
        try (FileInputStream stream = new FileInputStream("/dev/null")) {
            return "a descriptor was free";
        } catch (IOException e) {
            return "out of descriptors (" + e.getMessage() + ")";
        }
    }
}
