package dev.chainsocks.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;

/**
 * An origin HTTP server on a loopback address (JDK {@code HttpServer}) that serves one known page at
 * {@link #PATH} and remembers every request it got, as the proxy sent it.
 */
final class PageServer implements AutoCloseable {

    static final String PATH = "/page";

    /** The page: about 20 KB, so it takes more than one read through the relay, with a marker at each end. */
    static final String PAGE = pageText();

    /** One request as the origin saw it. Header names are lower case. */
    record Request(InetSocketAddress from, String method, String uri, Map<String, List<String>> headers) {

        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : String.join(", ", values);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final Queue<Request> requests = new ConcurrentLinkedQueue<>();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

    private PageServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static PageServer start(InetAddress address) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(address, 0), 64);
        ExecutorService executor = Executors.newFixedThreadPool(4, runnable -> {
            Thread thread = new Thread(runnable, "page-server " + address.getHostAddress());
            thread.setDaemon(true);
            return thread;
        });
        PageServer page = new PageServer(server, executor);
        server.createContext("/", page::handle);
        server.setExecutor(executor);
        server.start();
        return page;
    }

    private static String pageText() {
        StringBuilder page = new StringBuilder("<!doctype html>\n<title>chainsocks interop page</title>\n");
        for (int i = 0; i < 400; i++) {
            page.append(String.format(Locale.ROOT, "<p>line %03d of the page behind the proxy</p>%n", i));
        }
        return page.append("<p>end of the chainsocks interop page</p>\n").toString();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Map<String, List<String>> headers = exchange.getRequestHeaders().entrySet().stream()
                    .collect(Collectors.toMap(e -> e.getKey().toLowerCase(Locale.ROOT), e -> List.copyOf(e.getValue()),
                            (a, b) -> a));
            requests.add(new Request(exchange.getRemoteAddress(), exchange.getRequestMethod(),
                    exchange.getRequestURI().toString(), headers));
            exchange.getRequestBody().readAllBytes();
            if (!exchange.getRequestURI().getPath().equals(PATH)) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            byte[] body = PAGE.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (IOException | RuntimeException e) {
            failures.add(e);
            throw e;
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    /** {@code http://127.0.0.1:port/page} or {@code http://[::1]:port/page}. */
    String url() {
        String host = server.getAddress().getAddress().getHostAddress();
        return "http://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port() + PATH;
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError("page server on " + address() + " failed");
            failures.forEach(error::addSuppressed);
            throw error;
        }
    }
}
