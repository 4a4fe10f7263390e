package dev.chainsocks.control;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The command-line side of the control socket: sends one command to a running service and returns its answer.
 *
 * <pre>{@code
 * String text = ControlClient.send(Path.of("/run/chainsocks/control.sock"), "status");
 * }</pre>
 */
public final class ControlClient {
    /** How long to wait for the service to answer; a reload may take a while. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Largest response accepted. */
    public static final int MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

    private ControlClient() {
    }

    /** Sends {@code command} and returns the response text, waiting at most {@link #DEFAULT_TIMEOUT}. */
    public static String send(Path socket, String command) throws IOException {
        return send(socket, command, DEFAULT_TIMEOUT);
    }

    /**
     * Sends {@code command} (one line, no line breaks, at most {@value ControlServer#MAX_REQUEST_BYTES} bytes) and
     * returns the response text as the service wrote it, including its final line break.
     *
     * @throws IOException when the service cannot be reached, with a hint about what to check, or does not
     *                     answer within {@code timeout}
     */
    public static String send(Path socket, String command, Duration timeout) throws IOException {
        if (command.isBlank() || command.indexOf('\n') >= 0 || command.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("a control command is one non-empty line, got '" + command + "'");
        }
        byte[] request = command.getBytes(StandardCharsets.UTF_8);
        if (request.length > ControlServer.MAX_REQUEST_BYTES) {
            throw new IllegalArgumentException("control command longer than " + ControlServer.MAX_REQUEST_BYTES
                    + " bytes");
        }
        try (SocketChannel channel = connect(socket);
             TimedChannel io = new TimedChannel(channel, timeout)) {
            io.write(command + "\n", "the service to take the request");
            channel.shutdownOutput();
            return io.readToEnd(MAX_RESPONSE_BYTES, "the response from " + socket);
        }
    }

    private static SocketChannel connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return channel;
        } catch (IOException e) {
            channel.close();
            String reason = Files.exists(socket, LinkOption.NOFOLLOW_LINKS)
                    ? e.getMessage()
                    : "No such file or directory";
            throw new IOException("cannot reach chainsocks control socket " + socket + ": " + reason
                    + " — is the service running? (--control-socket PATH to use another)", e);
        }
    }
}
