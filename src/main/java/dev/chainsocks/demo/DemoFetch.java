package dev.chainsocks.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * The demo's client: a bare HTTP/1.0 GET over a plain socket. It has no notion of proxies, which is the point —
 * the redirect happens underneath it.
 */
public final class DemoFetch {

    private DemoFetch() {
    }

    /** Prints the response and returns whether the status was 200. */
    public static boolean fetch(URI url) throws IOException {
        int port = url.getPort() < 0 ? 80 : url.getPort();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(url.getHost(), port), 10_000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
            out.write(("GET " + path + " HTTP/1.0\r\nHost: " + url.getHost() + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            System.out.print(response.endsWith("\n") ? response : response + "\n");
            return response.startsWith("HTTP/1.0 200") || response.startsWith("HTTP/1.1 200");
        }
    }
}
