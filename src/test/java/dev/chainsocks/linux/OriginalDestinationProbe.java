package dev.chainsocks.linux;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A small program the tests run in a child JVM, where the parent cannot go: inside a network namespace, or
 * without CAP_NET_ADMIN. It prints one line per result for the test to check.
 *
 * <ul>
 *   <li>{@code set-mark}: tries SO_MARK and prints {@code ok} or {@code error: <message>}.</li>
 *   <li>{@code fd}: reads a socket channel's file descriptor and prints {@code fd N} or
 *       {@code unavailable: <message>}.</li>
 *   <li>{@code redirect V4PORT DUALPORT LISTENER=HOST:PORT...}: listens on {@code 0.0.0.0:V4PORT} (IPv4 socket)
 *       and {@code [::]:DUALPORT} (dual-stack), connects to each HOST:PORT, accepts it on the named listener
 *       ({@code v4} or {@code dual}) and prints
 *       {@code target HOST:PORT local ADDR original ADDR|error MESSAGE}.</li>
 * </ul>
 */
public final class OriginalDestinationProbe {
    private OriginalDestinationProbe() {
    }

    public static void main(String[] args) throws IOException {
        switch (args[0]) {
            case "set-mark" -> setMark();
            case "fd" -> descriptor();
            case "redirect" -> redirect(args);
            default -> throw new IllegalArgumentException("unknown probe " + args[0]);
        }
    }

    private static void setMark() throws IOException {
        try (SocketChannel channel = SocketChannel.open()) {
            LinuxSockets.get().setMark(channel, 1);
            System.out.println("ok");
        } catch (ErrnoException e) {
            System.out.println("error: " + e.getMessage());
        }
    }

    private static void descriptor() throws IOException {
        try (SocketChannel channel = SocketChannel.open()) {
            System.out.println("fd " + ChannelDescriptor.of(channel));
        } catch (IllegalStateException e) {
            System.out.println("unavailable: " + e.getMessage());
        }
    }

    private static void redirect(String[] args) throws IOException {
        int v4Port = Integer.parseInt(args[1]);
        int dualPort = Integer.parseInt(args[2]);
        try (ServerSocketChannel v4 = ServerSocketChannel.open(StandardProtocolFamily.INET);
             ServerSocketChannel dual = ServerSocketChannel.open(StandardProtocolFamily.INET6)) {
            v4.bind(new InetSocketAddress("0.0.0.0", v4Port));
            LinuxSockets.get().setIpv6Only(dual, false);
            dual.bind(new InetSocketAddress("::", dualPort));
            for (int i = 3; i < args.length; i++) {
                String[] listenerAndTarget = args[i].split("=", 2);
                ServerSocketChannel listener = listenerAndTarget[0].equals("v4") ? v4 : dual;
                String target = listenerAndTarget[1];
                int colon = target.lastIndexOf(':');
                String host = target.substring(0, colon).replace("[", "").replace("]", "");
                int port = Integer.parseInt(target.substring(colon + 1));
                try (Socket client = new Socket()) {
                    client.connect(new InetSocketAddress(host, port), 5_000);
                    try (SocketChannel accepted = listener.accept()) {
                        String result;
                        try {
                            result = "original " + print(LinuxSockets.get().originalDestination(accepted));
                        } catch (ErrnoException e) {
                            result = "error " + e.getMessage();
                        }
                        System.out.println("target " + target + " local "
                                + print((InetSocketAddress) accepted.getLocalAddress()) + " " + result);
                    }
                }
            }
        }
    }

    private static String print(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort()
                + " " + address.getAddress().getClass().getSimpleName();
    }
}
