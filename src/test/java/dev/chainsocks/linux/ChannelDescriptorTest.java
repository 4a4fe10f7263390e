package dev.chainsocks.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChannelDescriptorTest {

    @Test
    void descriptorIsTheKernelsSocketForThatChannel() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();

            int fd = ChannelDescriptor.of(server);

            assertThat(fd).isPositive();
            String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            Matcher socket = Pattern.compile("socket:\\[(\\d+)]").matcher(link);
            assertThat(socket.matches()).as("/proc/self/fd/%d -> %s", fd, link).isTrue();
            // /proc/net/tcp lists the listener as 0100007F:PORT with the same inode.
            String localAddress = String.format(Locale.ROOT, "0100007F:%04X", port);
            List<String> rows = Files.readAllLines(Path.of("/proc/net/tcp"));
            assertThat(rows).anySatisfy(row -> {
                String[] fields = row.trim().split("\\s+");
                assertThat(fields[1]).isEqualTo(localAddress);
                assertThat(fields[9]).isEqualTo(socket.group(1));
            });
        }
    }

    @Test
    void withoutTheExportTheErrorSaysWhatTheJvmNeeds() throws Exception {
        ChildProcesses.Result result = ChildProcesses.run(
                ChildProcesses.javaCommandWithoutExports(OriginalDestinationProbe.class, "fd"));

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).startsWith("unavailable: cannot read socket file descriptors")
                .contains("the JVM needs --add-exports java.base/sun.nio.ch=ALL-UNNAMED");
    }

    @Test
    void closedChannelIsRefusedBecauseItsNumberMayBeReused() throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.close();
        assertThatThrownBy(() -> ChannelDescriptor.of(server)).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void nonSocketChannelIsRefused(@TempDir Path dir) throws IOException {
        Path file = Files.createFile(dir.resolve("plain"));
        try (FileChannel channel = FileChannel.open(file)) {
            assertThatThrownBy(() -> ChannelDescriptor.of(channel))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not a JDK socket channel");
        }
    }
}
