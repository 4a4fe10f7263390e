package dev.chainsocks.control;

import dev.chainsocks.log.Logging;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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
        // Debug lines say how each client was accepted; the test shows them when it fails.
        Logging.configure("debug", false);
        Path socket = Path.of(args[0]);
        // Ours come from directories, where loading a class opens a file: load them all while descriptors are free.
        loadClassesOf(ControlServer.class, Logging.class);
        ControlServer.start(socket, command -> command + ": " + tryToOpenAFile());
        long descriptors = openDescriptors();
        // One exchange runs every path an exchange needs once.
        if (!ControlClient.send(socket, "warm-up").startsWith("warm-up: ")) {
            throw new IllegalStateException("no answer to the warm-up request");
        }
        // The client sees the end of the answer a moment before the server has closed its side: wait for that, so
        // that "fill" leaves no descriptor about to come free.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (openDescriptors() > descriptors) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the control server kept the warm-up client's descriptor");
            }
            Thread.sleep(1);
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

    private static long openDescriptors() throws IOException {
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count();
        }
    }

    /** Loads every class in the packages of {@code anchors} that sits in a directory of the class path. */
    private static void loadClassesOf(Class<?>... anchors) throws Exception {
        for (Class<?> anchor : anchors) {
            Path location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isDirectory(location)) {
                continue;
            }
            String pkg = anchor.getPackageName();
            try (Stream<Path> files = Files.list(location.resolve(pkg.replace('.', '/')))) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    String name = file.getFileName().toString();
                    if (name.endsWith(".class")) {
                        Class.forName(pkg + "." + name.substring(0, name.length() - ".class".length()), false,
                                anchor.getClassLoader());
                    }
                }
            }
        }
    }

    private static String tryToOpenAFile() {
        try (FileInputStream stream = new FileInputStream("/dev/null")) {
            return "a descriptor was free";
        } catch (IOException e) {
            return "out of descriptors (" + e.getMessage() + ")";
        }
    }
}
