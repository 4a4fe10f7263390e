package dev.chainsocks.server;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/** A UDP echo peer on a loopback address that remembers every datagram it got and who sent it. */
final class UdpEchoServer implements AutoCloseable {

    /** One datagram as the echo server saw it. */
    record Received(InetSocketAddress sender, byte[] payload) {
    }

    private final DatagramSocket socket;
    private final Thread thread;
    private final Queue<Received> received = new ConcurrentLinkedQueue<>();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private volatile boolean closing;

    private UdpEchoServer(DatagramSocket socket) {
        this.socket = socket;
        this.thread = new Thread(this::loop, "udp-echo " + socket.getLocalSocketAddress());
        this.thread.setDaemon(true);
    }

    static UdpEchoServer start(InetAddress address) throws SocketException {
        UdpEchoServer server = new UdpEchoServer(new DatagramSocket(new InetSocketAddress(address, 0)));
        server.thread.start();
        return server;
    }

    int port() {
        return socket.getLocalPort();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    List<Received> received() {
        return List.copyOf(received);
    }

    private void loop() {
        byte[] buffer = new byte[65_535];
        while (!closing) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
                InetSocketAddress sender = (InetSocketAddress) packet.getSocketAddress();
                received.add(new Received(sender,
                        Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength())));
                socket.send(new DatagramPacket(packet.getData(), packet.getOffset(), packet.getLength(), sender));
            } catch (IOException e) {
                if (!closing) {
                    failures.add(e);
                }
                return;
            }
        }
    }

    @Override
    public void close() {
        closing = true;
        socket.close();
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError("UDP echo server on " + address() + " failed");
            failures.forEach(error::addSuppressed);
            throw error;
        }
    }
}
