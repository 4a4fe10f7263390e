package dev.chainsocks.engine;

import dev.chainsocks.log.Logging;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.tinylog.Logger;

/**
 * The child JVM of {@link AcceptorTest}: an {@link Acceptor} on a loopback port, in a process the test can drive
 * out of file descriptors. Holds every accepted connection open (each costs a descriptor).
 *
 * <p>Talks on stdout: {@code listening PORT}, {@code accepted N} per connection, {@code filled N}, {@code freed}.
 * Reads commands on stdin: {@code fill SPARE} opens /dev/null until open fails with EMFILE, then closes SPARE of
 * those descriptors; {@code free} closes them all; end of input exits. The acceptor's log goes to stderr.
 */
public final class AcceptorUnderFdLimit {

    private AcceptorUnderFdLimit() {
    }

    public static void main(String[] args) throws Exception {
        Logging.configure("info", false);
        EventLoopGroup group = new EventLoopGroup("child", 1);
        ServerSocketChannel server = Acceptor.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128,
                Acceptor.ListenerSetup.NONE);
        List<SocketChannel> held = new CopyOnWriteArrayList<>();
        Acceptor.create(group, server, new ConnectionLimit(10_000), "child listener", (loop, channel, acceptor) -> {
            held.add(channel);
            System.out.println("accepted " + held.size());
        }).start();
        warmUp(group.loops().get(0));
        System.out.println("listening " + ((InetSocketAddress) server.getLocalAddress()).getPort());

        List<FileInputStream> filler = new ArrayList<>();
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        String command;
        while ((command = commands.readLine()) != null) {
            if (command.startsWith("fill ")) {
                int spare = Integer.parseInt(command.substring(5));
                String why = fill(filler);
                for (int i = 0; i < spare; i++) {
                    filler.remove(filler.size() - 1).close();
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

    /** Opens /dev/null until the process is out of descriptors; returns the error that stopped it. */
    private static String fill(List<FileInputStream> filler) {
        while (true) {
            try {
                filler.add(new FileInputStream("/dev/null"));
            } catch (IOException e) {
                return e.getMessage();
            }
        }
    }

    /**
     * Loads what the acceptor needs once descriptors run out (our classes come from directories, and loading a
     * class opens its file): the logger with arguments, and the loop's timers.
     */
    private static void warmUp(EventLoop loop) throws InterruptedException {
        Logger.info("child warming up {} {}", "the logger", Duration.ofMillis(1).toMillis());
        CountDownLatch fired = new CountDownLatch(1);
        loop.execute(() -> loop.schedule(Duration.ofMillis(1), fired::countDown));
        fired.await();
    }
}
