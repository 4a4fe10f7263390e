package dev.chainsocks.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Without TPROXY the original destination of a datagram is simply the address it was sent to, which is enough to
 * prove the control message is asked for, found and parsed for both families; TPROXY itself is proved in the e2e.
 */
class OriginalDestinationReceiverTest {

    @Test
    void ipv4DatagramComesWithSenderAndDestination() throws IOException {
        roundTrip(StandardProtocolFamily.INET, "127.0.0.1", "127.0.0.1");
    }

    @Test
    void ipv6DatagramComesWithSenderAndDestination() throws IOException {
        roundTrip(StandardProtocolFamily.INET6, "::1", "::1");
    }

    @Test
    void ipv4DatagramOnADualStackSocketIsReportedAsIpv4() throws IOException {
        try (DatagramChannel receiver = DatagramChannel.open(StandardProtocolFamily.INET6)) {
            LinuxSockets.get().setIpv6Only(receiver, false);
            receiver.bind(new InetSocketAddress("::", 0));
            int port = ((InetSocketAddress) receiver.getLocalAddress()).getPort();
            OriginalDestinationReceiver datagrams = OriginalDestinationReceiver.enable(receiver, 2048);
            try (DatagramChannel sender = DatagramChannel.open(StandardProtocolFamily.INET)) {
                sender.bind(new InetSocketAddress("127.0.0.1", 0));
                sender.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), new InetSocketAddress("127.0.0.1", port));
                ByteBuffer into = ByteBuffer.allocate(2048);
                OriginalDestinationReceiver.Datagram datagram = awaitDatagram(datagrams, into);
                assertThat(datagram.source()).isEqualTo(sender.getLocalAddress());
                assertThat(datagram.originalDestination()).isEqualTo(new InetSocketAddress("127.0.0.1", port));
                assertThat(datagram.length()).isEqualTo(3);
            }
        }
    }

    @Test
    void longerDatagramIsCutAndSaysSo() throws IOException {
        try (DatagramChannel receiver = DatagramChannel.open(StandardProtocolFamily.INET);
                DatagramChannel sender = DatagramChannel.open(StandardProtocolFamily.INET)) {
            receiver.bind(new InetSocketAddress("127.0.0.1", 0));
            OriginalDestinationReceiver datagrams = OriginalDestinationReceiver.enable(receiver, 4);
            sender.send(ByteBuffer.wrap("0123456789".getBytes(StandardCharsets.US_ASCII)), receiver.getLocalAddress());
            ByteBuffer into = ByteBuffer.allocate(16);
            OriginalDestinationReceiver.Datagram datagram = awaitDatagram(datagrams, into);
            assertThat(datagram.truncated()).isTrue();
            assertThat(datagram.length()).isEqualTo(4);
            assertThat(new String(into.array(), 0, into.position(), StandardCharsets.US_ASCII)).isEqualTo("0123");
        }
    }

    @Test
    void nothingWaitingIsNull() throws IOException {
        try (DatagramChannel receiver = DatagramChannel.open(StandardProtocolFamily.INET)) {
            receiver.bind(new InetSocketAddress("127.0.0.1", 0));
            receiver.configureBlocking(false);
            OriginalDestinationReceiver datagrams = OriginalDestinationReceiver.enable(receiver, 64);
            assertThat(datagrams.receive(ByteBuffer.allocate(64))).isNull();
        }
    }

    @Test
    void closedChannelIsRefused() throws IOException {
        DatagramChannel receiver = DatagramChannel.open(StandardProtocolFamily.INET);
        receiver.bind(new InetSocketAddress("127.0.0.1", 0));
        OriginalDestinationReceiver datagrams = OriginalDestinationReceiver.enable(receiver, 64);
        receiver.close();
        assertThatThrownBy(() -> datagrams.receive(ByteBuffer.allocate(64)))
                .isInstanceOf(java.nio.channels.ClosedChannelException.class);
    }

    private static void roundTrip(StandardProtocolFamily family, String receiverHost, String senderHost)
            throws IOException {
        try (DatagramChannel receiver = DatagramChannel.open(family);
                DatagramChannel sender = DatagramChannel.open(family)) {
            receiver.bind(new InetSocketAddress(receiverHost, 0));
            sender.bind(new InetSocketAddress(senderHost, 0));
            OriginalDestinationReceiver datagrams = OriginalDestinationReceiver.enable(receiver, 2048);
            byte[] payload = "hello over udp".getBytes(StandardCharsets.US_ASCII);
            sender.send(ByteBuffer.wrap(payload), receiver.getLocalAddress());
            ByteBuffer into = ByteBuffer.allocate(2048);
            OriginalDestinationReceiver.Datagram datagram = awaitDatagram(datagrams, into);
            assertThat(datagram.source()).isEqualTo(sender.getLocalAddress());
            assertThat(datagram.originalDestination()).isEqualTo(receiver.getLocalAddress());
            assertThat(datagram.truncated()).isFalse();
            assertThat(new String(into.array(), 0, into.position(), StandardCharsets.US_ASCII))
                    .isEqualTo("hello over udp");
        }
    }

    /** Loopback delivery is synchronous with send, but allow a bounded few retries for an unusual scheduler. */
    private static OriginalDestinationReceiver.Datagram awaitDatagram(OriginalDestinationReceiver receiver,
            ByteBuffer into) throws IOException {
        for (int attempt = 0; attempt < 1000; attempt++) {
            OriginalDestinationReceiver.Datagram datagram = receiver.receive(into);
            if (datagram != null) {
                return datagram;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("no datagram arrived on loopback");
    }
}
