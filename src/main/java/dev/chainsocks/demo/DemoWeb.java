package dev.chainsocks.demo;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/** The demo's web server: one page that says who asked for it. */
public final class DemoWeb {

    private DemoWeb() {
    }

    public static void serve(InetSocketAddress address) throws IOException, InterruptedException {
        HttpServer server = HttpServer.create(address, 16);
        server.createContext("/", exchange -> {
            String peer = exchange.getRemoteAddress().getAddress().getHostAddress();
            System.out.println("GET " + exchange.getRequestURI() + " from " + peer);
            byte[] body = ("Hello from the wan web server. You reached me from " + peer
                    + " (the last hop), not from the lan client.\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("serving on " + address);
        new CountDownLatch(1).await();
    }
}
