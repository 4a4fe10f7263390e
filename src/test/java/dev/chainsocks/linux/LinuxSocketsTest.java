package dev.chainsocks.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.chainsocks.testsupport.Prerequisite;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import dev.chainsocks.linux.NativeAccess.LibC;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinuxSocketsTest {
    private final LinuxSockets linux = LinuxSockets.get();

    @Test
    void libcIsAvailableOnLinux() {
        assertThat(LinuxSockets.available()).isTrue();
    }

    @Test
    void connectionThatWasNotRedirectedHasNoOtherOriginalDestination() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            assertNotRedirected(server, new InetSocketAddress("127.0.0.1", port(server)),
                    "getsockopt(SO_ORIGINAL_DST)");
        }
    }

    @Test
    void ipv6ConnectionIsAskedAtTheIpv6Level() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET6)) {
            server.bind(new InetSocketAddress("::1", 0));
            assertNotRedirected(server, new InetSocketAddress("::1", port(server)),
                    "getsockopt(IP6T_SO_ORIGINAL_DST)");
        }
    }

    @Test
    void ipv4ClientOfDualStackListenerIsAskedAtTheIpv4Level() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET6)) {
            linux.setIpv6Only(server, false);
            server.bind(new InetSocketAddress("::", 0));
            // The kernel sees ::ffff:127.0.0.1 on an AF_INET6 socket; SOL_IPV6 would answer ENOENT for it.
            assertNotRedirected(server, new InetSocketAddress("127.0.0.1", port(server)),
                    "getsockopt(SO_ORIGINAL_DST)");
        }
    }

    /**
     * A direct connection has no NAT record. Depending on whether conntrack tracks this namespace's loopback
     * traffic, the kernel says ENOENT or reports the (unchanged) original tuple, which is the listener itself.
     */
    private void assertNotRedirected(ServerSocketChannel server, InetSocketAddress connectTo, String call)
            throws IOException {
        try (SocketChannel client = SocketChannel.open(connectTo);
             SocketChannel accepted = server.accept()) {
            InetSocketAddress original;
            try {
                original = linux.originalDestination(accepted);
            } catch (ErrnoException e) {
                assertThat(e.errno()).isEqualTo(ErrnoException.ENOENT);
                assertThat(e.call()).isEqualTo(call);
                assertThat(e.getMessage()).isEqualTo(call + ": No such file or directory (ENOENT)");
                return;
            }
            assertThat(original).isEqualTo(connectTo);
            assertThat(original.getAddress().getClass()).isEqualTo(connectTo.getAddress().getClass());
            assertThat(client.isConnected()).isTrue();
        }
    }

    @Test
    void ipv6OnlyLetsIpv4AndIpv6WildcardsShareAPort() throws IOException {
        try (ServerSocketChannel v6 = ServerSocketChannel.open(StandardProtocolFamily.INET6);
             ServerSocketChannel v4 = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            linux.setIpv6Only(v6, true);
            assertThat(LinuxSockets.intOption(v6, LibC.SOL_IPV6, LibC.IPV6_V6ONLY, "getsockopt(IPV6_V6ONLY)"))
                    .isEqualTo(1);
            v6.bind(new InetSocketAddress("::", 0));

            v4.bind(new InetSocketAddress("0.0.0.0", port(v6)));

            assertThat(port(v4)).isEqualTo(port(v6));
        }
    }

    @Test
    void dualStackWildcardClaimsTheIpv4PortToo() throws IOException {
        try (ServerSocketChannel v6 = ServerSocketChannel.open(StandardProtocolFamily.INET6);
             ServerSocketChannel v4 = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            linux.setIpv6Only(v6, false);
            v6.bind(new InetSocketAddress("::", 0));

            assertThatThrownBy(() -> v4.bind(new InetSocketAddress("0.0.0.0", port(v6))))
                    .isInstanceOf(BindException.class);
        }
    }

    @Test
    void ipv6OnlyIsRefusedOnAnIpv4Socket() throws IOException {
        try (ServerSocketChannel v4 = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            assertThatThrownBy(() -> linux.setIpv6Only(v4, true))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("IPV6_V6ONLY applies to IPv6 sockets");
        }
    }

    @Test
    void markIsSetWithCapNetAdmin() throws IOException {
        Prerequisite.require(ChildProcesses.isRoot(), "setting SO_MARK needs root (CAP_NET_ADMIN)");
        try (SocketChannel channel = SocketChannel.open()) {
            linux.setMark(channel, 0x2a);
            assertThat(LinuxSockets.intOption(channel, LibC.SOL_SOCKET, LibC.SO_MARK, "getsockopt(SO_MARK)"))
                    .isEqualTo(0x2a);
        }
    }

    @Test
    void markWithoutCapNetAdminSaysWhichCapabilityIsMissing() throws Exception {
        String expected = "setsockopt(SO_MARK): Operation not permitted (EPERM); SO_MARK needs CAP_NET_ADMIN";
        if (!ChildProcesses.isRoot()) {
            try (SocketChannel channel = SocketChannel.open()) {
                ErrnoException e = catchThrowableOfType(ErrnoException.class, () -> linux.setMark(channel, 1));
                assertThat(e.errno()).isEqualTo(ErrnoException.EPERM);
                assertThat(e.getMessage()).startsWith(expected);
            }
            return;
        }
        // As root, run the attempt in a child JVM without CAP_NET_ADMIN and CAP_NET_RAW (Linux 5.17+ accepts
        // either for SO_MARK).
        Prerequisite.require(ChildProcesses.onPath("setpriv"), "setpriv (util-linux) is needed to drop capabilities");
        List<String> command = new ArrayList<>(List.of("setpriv", "--inh-caps=-net_admin,-net_raw",
                "--ambient-caps=-net_admin,-net_raw", "--bounding-set=-net_admin,-net_raw", "--"));
        command.addAll(ChildProcesses.javaCommand(OriginalDestinationProbe.class, "set-mark"));
        ChildProcesses.Result result = ChildProcesses.run(command);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).startsWith("error: " + expected);
    }

    @Test
    void transparentIsSetOnIpv4AndIpv6Sockets() throws IOException {
        Prerequisite.require(ChildProcesses.isRoot(), "IP_TRANSPARENT needs root (CAP_NET_ADMIN)");
        try (ServerSocketChannel v4 = ServerSocketChannel.open(StandardProtocolFamily.INET);
             ServerSocketChannel v6 = ServerSocketChannel.open(StandardProtocolFamily.INET6)) {
            linux.setTransparent(v4);
            linux.setTransparent(v6);
            assertThat(LinuxSockets.intOption(v4, LibC.SOL_IP, LibC.IP_TRANSPARENT, "getsockopt(IP_TRANSPARENT)"))
                    .isEqualTo(1);
            assertThat(LinuxSockets.intOption(v6, LibC.SOL_IPV6, LibC.IPV6_TRANSPARENT,
                    "getsockopt(IPV6_TRANSPARENT)")).isEqualTo(1);
        }
    }

    @Test
    void noFileSoftLimitEndsAtTheHardLimit() throws IOException {
        NoFileLimit limit = linux.raiseNoFileLimit();

        assertThat(limit.soft()).isEqualTo(limit.hard());
        assertThat(limit.previousSoft()).isLessThanOrEqualTo(limit.soft());
        String maxOpenFiles = Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(line -> line.startsWith("Max open files"))
                .findFirst().orElseThrow();
        assertThat(maxOpenFiles.split("\\s+")).contains(Long.toString(limit.soft()), Long.toString(limit.hard()));
        assertThat(linux.raiseNoFileLimit().raised()).isFalse();
    }

    @Test
    void noFileLimitReadsWellInALog() {
        assertThat(new NoFileLimit(1024, 524288, 524288))
                .hasToString("open files limit raised from 1024 to 524288 (hard limit 524288)");
        assertThat(new NoFileLimit(-1, -1, -1))
                .hasToString("open files limit unlimited (already at the hard limit unlimited)");
    }

    @Test
    void errnoBecomesAnIoExceptionWithTheCallAndTheKernelsWords() {
        assertThat(NativeAccess.error("getsockopt(SO_ORIGINAL_DST)", 2, null))
                .hasMessage("getsockopt(SO_ORIGINAL_DST): No such file or directory (ENOENT)");
        assertThat(NativeAccess.error("setsockopt(SO_MARK)", 1, "SO_MARK needs CAP_NET_ADMIN"))
                .hasMessage("setsockopt(SO_MARK): Operation not permitted (EPERM); SO_MARK needs CAP_NET_ADMIN");
        ErrnoException unknown = NativeAccess.error("frob()", 4000, null);
        assertThat(unknown).hasMessage("frob(): Unknown error 4000 (errno 4000)");
        assertThat(unknown.errnoName()).isEqualTo("errno 4000");
    }

    private static int port(ServerSocketChannel server) throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }
}
