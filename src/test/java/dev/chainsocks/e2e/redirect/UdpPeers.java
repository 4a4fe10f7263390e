package dev.chainsocks.e2e.redirect;

import dev.chainsocks.e2e.Command;
import dev.chainsocks.e2e.ManagedProcess;
import dev.chainsocks.e2e.Netns;
import dev.chainsocks.e2e.Prerequisites;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The UDP ends of the UDP tests, small Python programs: an echo server that answers every datagram with
 * {@code echo <sender-ip>:<port> <payload>} (so the client learns who really sent it: the proxy's relay, not the
 * client), a DNS responder that answers every A query with one fixed address, and a client that sends one datagram
 * and prints the reply and the address the reply came from.
 */
final class UdpPeers {

    private static final String ECHO = """
            import socket, sys
            socks = []
            for host in sys.argv[2:]:
                family = socket.AF_INET6 if ':' in host else socket.AF_INET
                s = socket.socket(family, socket.SOCK_DGRAM)
                s.bind((host, int(sys.argv[1])))
                socks.append(s)
            print('ready', flush=True)
            import selectors
            sel = selectors.DefaultSelector()
            for s in socks:
                sel.register(s, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select():
                    data, peer = key.fileobj.recvfrom(65535)
                    print('from %s:%d %r' % (peer[0], peer[1], data), flush=True)
                    key.fileobj.sendto(b'echo %s:%d ' % (peer[0].encode(), peer[1]) + data, peer)
            """;

    /** Answers any A question with {@code sys.argv[2]}; anything else gets an empty NOERROR answer. */
    private static final String DNS = """
            import socket, struct, sys, selectors
            answer_ip = socket.inet_aton(sys.argv[2])
            socks = []
            for host in sys.argv[3:]:
                family = socket.AF_INET6 if ':' in host else socket.AF_INET
                s = socket.socket(family, socket.SOCK_DGRAM)
                s.bind((host, int(sys.argv[1])))
                socks.append(s)
            print('ready', flush=True)
            sel = selectors.DefaultSelector()
            for s in socks:
                sel.register(s, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select():
                    q, peer = key.fileobj.recvfrom(4096)
                    if len(q) < 12:
                        continue
                    qid, flags, qd = struct.unpack('!HHH', q[:6])
                    i = 12
                    labels = []
                    while q[i] != 0:
                        labels.append(q[i + 1:i + 1 + q[i]].decode())
                        i += 1 + q[i]
                    qtype = struct.unpack('!H', q[i + 1:i + 3])[0]
                    question = q[12:i + 5]
                    is_a = qtype == 1
                    header = struct.pack('!HHHHHH', qid, 0x8180 | (flags & 0x0100), 1, 1 if is_a else 0, 0, 0)
                    body = question
                    if is_a:
                        body += struct.pack('!HHHIH', 0xc00c, 1, 1, 60, 4) + answer_ip
                    key.fileobj.sendto(header + body, peer)
                    print('query %s type %d from %s' % ('.'.join(labels), qtype, peer[0]), flush=True)
            """;

    private static final String CLIENT = """
            import socket, sys
            host, port, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
            family = socket.AF_INET6 if ':' in host else socket.AF_INET
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.settimeout(5)
            s.sendto(payload, (host, port))
            data, peer = s.recvfrom(65535)
            print('reply from %s:%d %s' % (peer[0], peer[1], data.decode()))
            """;

    private UdpPeers() {
    }

    private static Path script(Netns netns, String name, String text) {
        return netns.workspace().writeFile(netns.workspace().work(), name, text);
    }

    /** An echo server on {@code port} of every address in {@code hosts}; returns once it is bound. */
    static ManagedProcess echo(Netns netns, int port, String... hosts) {
        List<String> command = new ArrayList<>(List.of(Prerequisites.PYTHON, "-u",
                script(netns, "udp-echo.py", ECHO).toString(), String.valueOf(port)));
        command.addAll(List.of(hosts));
        ManagedProcess process = netns.spawn("udp-echo-" + port, command);
        process.awaitLogLine("ready", Duration.ofSeconds(10));
        return process;
    }

    /** A DNS responder on {@code port} of every address in {@code hosts}, answering A queries with {@code ip}. */
    static ManagedProcess dns(Netns netns, int port, String ip, String... hosts) {
        List<String> command = new ArrayList<>(List.of(Prerequisites.PYTHON, "-u",
                script(netns, "dns-responder.py", DNS).toString(), String.valueOf(port), ip));
        command.addAll(List.of(hosts));
        ManagedProcess process = netns.spawn("dns-" + port, command);
        process.awaitLogLine("ready", Duration.ofSeconds(10));
        return process;
    }

    /** Sends one datagram from {@code netns} and returns the line {@code reply from HOST:PORT PAYLOAD}. */
    static String ask(Netns netns, String host, int port, String payload) {
        Command.Result result = netns.run(Duration.ofSeconds(15), Prerequisites.PYTHON,
                script(netns, "udp-client.py", CLIENT).toString(), host, String.valueOf(port), payload);
        return result.requireSuccess().stdout().strip();
    }
}
