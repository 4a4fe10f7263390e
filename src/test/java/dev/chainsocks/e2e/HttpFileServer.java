package dev.chainsocks.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * A target web server: {@code python3 -m http.server} serving a directory with a small page of known content
 * ({@link #PAGE_PATH}, containing {@link #PAGE_MARKER}) and a large file of pseudo-random bytes ({@link #BIG_PATH}).
 * Bound to {@code ::} it answers on every IPv4 and IPv6 address of its namespace. Its log has one line per request
 * starting with the client address, so a test can tell whether a request came directly or through a proxy.
 */
public final class HttpFileServer implements AutoCloseable {

    public static final String PAGE_PATH = "/index.html";
    public static final String BIG_PATH = "/big.bin";
    public static final String PAGE_MARKER = "chainsocks e2e target page";

    private final ManagedProcess process;
    private final int port;
    private final long bigSize;
    private final String bigSha256;
    private final String page;

    private HttpFileServer(ManagedProcess process, int port, long bigSize, String bigSha256, String page) {
        this.process = process;
        this.port = port;
        this.bigSize = bigSize;
        this.bigSha256 = bigSha256;
        this.page = page;
    }

    /** Serves on all addresses of {@code netns} at {@code port}; {@code bigBytes} is the size of {@link #BIG_PATH}. */
    public static HttpFileServer start(Netns netns, int port, long bigBytes) {
        Path dir = netns.workspace().newDirectory("www-" + port);
        String page = "<html><body><p>" + PAGE_MARKER + " served from " + netns.name() + "</p></body></html>\n";
        netns.workspace().writeFile(dir, "index.html", page);
        String sha = writeBigFile(dir.resolve("big.bin"), bigBytes);
        ManagedProcess process = netns.spawn("http-" + port, Prerequisites.PYTHON, "-u", "-m", "http.server",
                "--bind", "::", "--directory", dir.toString(), Integer.toString(port));
        process.waitForPort("::", port, Duration.ofSeconds(20));
        return new HttpFileServer(process, port, bigBytes, sha, page);
    }

    public int port() {
        return port;
    }

    /** {@code http://host:port/path}, with IPv6 literals in brackets. */
    public String url(String host, String path) {
        return "http://" + Endpoint.of(host, port) + path;
    }

    public String page() {
        return page;
    }

    public long bigSize() {
        return bigSize;
    }

    public String bigSha256() {
        return bigSha256;
    }

    /** Request log lines ({@code <client> - - [date] "GET /path HTTP/1.1" 200 -}). */
    public List<String> requestLines() {
        return process.logLines().stream().filter(line -> line.contains("\"GET ")).toList();
    }

    /** Waits until {@code count} requests are logged and returns them; the server logs after it answered. */
    public List<String> awaitRequests(int count, Duration timeout) {
        return process.awaitLogLines(line -> line.contains("\"GET "), count, timeout);
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop();
    }

    /** Writes {@code size} bytes from a fixed seed and returns their SHA-256 in hex. */
    static String writeBigFile(Path file, long size) {
        try (OutputStream out = Files.newOutputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Random random = new Random(0x5eed_c0deL);
            byte[] chunk = new byte[1 << 16];
            long left = size;
            while (left > 0) {
                random.nextBytes(chunk);
                int n = (int) Math.min(chunk.length, left);
                out.write(chunk, 0, n);
                sha.update(chunk, 0, n);
                left -= n;
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SHA-256 of a file, in hex. */
    public static String sha256(Path file) {
        try (var in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
