package dev.chainsocks.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.stream.Stream;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link UnixDatagramSocket} against a receiver of another implementation (jnr-unixsocket), with the addresses
 * byte by byte.
 */
@Timeout(20)
class UnixDatagramSocketTest {

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private static String family() {
        return hex(ByteBuffer.allocate(2).order(ByteOrder.nativeOrder()).putShort((short) 1).array());
    }

    @Test
    void aPathIsTheFamilyThenThePathAndItsNul() {
        assertThat(hex(UnixDatagramSocket.sockaddr("/run/n"))).isEqualTo(family() + "2f72756e2f6e" + "00");
    }

    @Test
    void anAbstractNameIsTheFamilyANulAndExactlyTheName() {
        assertThat(hex(UnixDatagramSocket.sockaddr("@sd"))).isEqualTo(family() + "00" + "7364");
    }

    @Test
    void addressesThatDoNotFitOrAreNeitherKindAreRefused() {
        String longest = "/" + "a".repeat(UnixDatagramSocket.MAX_ADDRESS_BYTES - 2);
        assertThat(UnixDatagramSocket.sockaddr(longest)).hasSize(2 + UnixDatagramSocket.MAX_ADDRESS_BYTES);
        assertThatThrownBy(() -> UnixDatagramSocket.sockaddr(longest + "a"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("longer than");
        assertThat(UnixDatagramSocket.sockaddr("@" + "b".repeat(UnixDatagramSocket.MAX_ADDRESS_BYTES - 1)))
                .hasSize(2 + UnixDatagramSocket.MAX_ADDRESS_BYTES);
        assertThatThrownBy(() -> UnixDatagramSocket.sockaddr("@" + "b".repeat(UnixDatagramSocket.MAX_ADDRESS_BYTES)))
                .isInstanceOf(IllegalArgumentException.class);
        for (String neither : new String[] {"relative/path", "@", "", "vsock:2:1234"}) {
            assertThatThrownBy(() -> UnixDatagramSocket.sockaddr(neither))
                    .as(neither).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("neither");
        }
    }

    @Test
    void datagramsArriveWholeAndInOrderAtAPath(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("receiver");
        try (UnixDatagramChannel receiver = UnixDatagramChannel.open();
                UnixDatagramSocket socket = UnixDatagramSocket.open()) {
            receiver.bind(new UnixSocketAddress(path.toString()));
            socket.send("first".getBytes(StandardCharsets.UTF_8), path.toString());
            socket.send(new byte[0], path.toString());
            socket.send("x".repeat(3000).getBytes(StandardCharsets.UTF_8), path.toString());

            assertThat(receive(receiver)).isEqualTo("first");
            assertThat(receive(receiver)).isEmpty();
            assertThat(receive(receiver)).isEqualTo("x".repeat(3000));
        }
    }

    @Test
    void anAbstractNameReachesItsReceiver() throws IOException {
        String name = "chainsocks-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (UnixDatagramChannel receiver = UnixDatagramChannel.open();
                UnixDatagramSocket socket = UnixDatagramSocket.open()) {
            receiver.bind(new UnixSocketAddress("\0" + name));
            socket.send("READY=1".getBytes(StandardCharsets.UTF_8), "@" + name);

            assertThat(receive(receiver)).isEqualTo("READY=1");
        }
    }

    @Test
    void nobodyAtTheAddressIsAnErrnoAndTheDescriptorIsClosed(@TempDir Path dir) throws IOException {
        Set<String> before = openSockets();
        UnixDatagramSocket socket = UnixDatagramSocket.open();
        Set<String> opened = new HashSet<>(openSockets());
        opened.removeAll(before);
        assertThat(opened).as("the socket's inode").hasSize(1);

        assertThatThrownBy(() -> socket.send(new byte[] {1}, dir.resolve("nobody").toString()))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(2))
                .hasMessageContaining("sendto(" + dir.resolve("nobody") + ")").hasMessageContaining("ENOENT");

        socket.close();
        socket.close();
        assertThat(openSockets()).doesNotContainAnyElementsOf(opened);
        assertThatThrownBy(() -> socket.send(new byte[] {1}, "/x")).hasMessageContaining("closed");
    }

    private static String receive(UnixDatagramChannel receiver) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        receiver.receive(buffer);
        buffer.flip();
        return StandardCharsets.UTF_8.decode(buffer).toString();
    }

    /** The sockets this process has open, as their links read: {@code socket:[inode]}. */
    private static Set<String> openSockets() throws IOException {
        Set<String> sockets = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:")) {
                        sockets.add(target);
                    }
                } catch (IOException e) {
                    // Closed while listing (the listing's own descriptor, or another thread's).
                }
            }
        }
        return sockets;
    }
}
