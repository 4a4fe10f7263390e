package dev.chainsocks.control;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.chainsocks.fuzz.FuzzInput;
import dev.chainsocks.fuzz.Reads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz test of the control socket's request parsing: a client sends arbitrary bytes (cut into writes where the
 * fuzzer says) and half-closes; the server must answer exactly what its documented rules give. The first line (up
 * to LF, a CR before it dropped, at most {@value ControlServer#MAX_REQUEST_BYTES} bytes, UTF-8) is handed, stripped,
 * to the handler; an over-long line or a blank one gets an {@code error:} line. The handler here answers with the
 * hex of what it was given, so the answer shows exactly what was parsed. One server serves every input, so a
 * request that wedged it would fail every later one. Seeds are under
 * {@code src/test/resources/dev/chainsocks/control/ControlServerFuzzTestInputs/}.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class ControlServerFuzzTest {

    private static Path directory;
    private static ControlServer server;

    @BeforeAll
    static void start() throws IOException {
        directory = Files.createTempDirectory("chainsocks-control-fuzz");
        server = ControlServer.start(directory.resolve("control.sock"),
                command -> "handled " + HexFormat.of().formatHex(command.getBytes(StandardCharsets.UTF_8)),
                Duration.ofSeconds(5));
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (directory != null) {
            Files.deleteIfExists(directory.resolve("control.sock"));
            Files.deleteIfExists(directory);
        }
    }

    /** Input: the bytes the client sends, then the reads trailer (00: one write). */
    @FuzzTest
    public void requestLine(byte[] input) throws IOException {
        Reads reads = FuzzInput.of(input).reads();
        String expected = expectedAnswer(reads.message());
        String answer = exchange(reads);
        if (!answer.equals(expected)) {
            throw new AssertionError("sent " + reads + ": " + HexFormat.of().formatHex(reads.message())
                    + "\n  answer:   " + answer + "\n  expected: " + expected);
        }
    }

    /** The server's rules, written out independently of its code. */
    static String expectedAnswer(byte[] sent) {
        int end = 0;
        while (end < sent.length && sent[end] != '\n') {
            end++;
        }
        if (end > ControlServer.MAX_REQUEST_BYTES) {
            return "error: the request line is longer than " + ControlServer.MAX_REQUEST_BYTES + " bytes\n";
        }
        String line = new String(sent, 0, end, StandardCharsets.UTF_8);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        if (line.isBlank()) {
            return "error: empty request\n";
        }
        return "handled " + HexFormat.of().formatHex(line.strip().getBytes(StandardCharsets.UTF_8)) + "\n";
    }

    private static String exchange(Reads reads) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(server.socket()));
            try {
                for (byte[] chunk : reads.chunks()) {
                    ByteBuffer bytes = ByteBuffer.wrap(chunk);
                    while (bytes.hasRemaining()) {
                        channel.write(bytes);
                    }
                }
                channel.shutdownOutput();
            } catch (IOException closedEarly) {
                // The server stops reading after an over-long line and closes; its answer is still there to read.
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            try {
                while (channel.read(buffer.clear()) >= 0) {
                    answer.write(buffer.array(), 0, buffer.position());
                }
            } catch (IOException reset) {
                // Closing with unread request bytes resets the connection after the answer.
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }
}
