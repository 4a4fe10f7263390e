package dev.chainsocks.e2e;

import java.nio.file.Path;

/**
 * The Python program behind {@link ByteStreamServer} and {@link ByteStreamClient}, kept here as text (the harness
 * ships no resource files) and written next to the test's other generated files when needed.
 */
final class ByteStreamScript {

    static final String SOURCE = """
'''Byte-stream checks for the chainsocks e2e tests (server and client in one file).

Every connection starts with one header line from the client, "CHECK <mode> <reply_bytes> <seed>", then:
  echo   the server sends back every byte it receives; when the client half-closes, the server finishes
         echoing and closes its side too.
  reply  the server reads until the client half-closes, then answers "RECEIVED <count> <sha256>" and
         <reply_bytes> pseudo-random bytes from <seed>+1, and closes. The client must still receive all of
         it after it shut down its own sending side: this is the half-close case.
Data is pseudo-random from a seed, so both sides know what to expect without storing it.
'''
import argparse
import hashlib
import random
import socket
import sys
import threading
import time

CHUNK = 65536


def generate(seed, total):
    rnd = random.Random(seed)
    left = total
    while left > 0:
        n = min(CHUNK, left)
        yield rnd.randbytes(n)
        left -= n


def expected_sha256(seed, total):
    digest = hashlib.sha256()
    for block in generate(seed, total):
        digest.update(block)
    return digest.hexdigest()


def read_line(sock, limit=200):
    data = b""
    while not data.endswith(b"\\n"):
        b = sock.recv(1)
        if not b:
            raise EOFError("connection closed before header line ended")
        data += b
        if len(data) > limit:
            raise ValueError("header line too long")
    return data.decode("ascii").strip()


def log(message):
    print(message, flush=True)


def serve_connection(conn, peer, idle_timeout):
    conn.settimeout(idle_timeout)
    received = 0
    sent = 0
    digest = hashlib.sha256()
    mode = "?"
    try:
        fields = read_line(conn).split()
        if len(fields) != 4 or fields[0] != "CHECK":
            raise ValueError("bad header %r" % (fields,))
        mode, reply_bytes, seed = fields[1], int(fields[2]), int(fields[3])
        if mode == "echo":
            while True:
                data = conn.recv(CHUNK)
                if not data:
                    break
                received += len(data)
                digest.update(data)
                conn.sendall(data)
                sent += len(data)
        elif mode == "reply":
            while True:
                data = conn.recv(CHUNK)
                if not data:
                    break
                received += len(data)
                digest.update(data)
            conn.sendall(("RECEIVED %d %s\\n" % (received, digest.hexdigest())).encode("ascii"))
            for block in generate(seed + 1, reply_bytes):
                conn.sendall(block)
                sent += len(block)
        else:
            raise ValueError("unknown mode %r" % mode)
        conn.shutdown(socket.SHUT_WR)
        log("conn peer=%s mode=%s received=%d sent=%d sha256_in=%s outcome=ok"
            % (peer, mode, received, sent, digest.hexdigest()))
    except Exception as e:  # one bad connection must not stop the server
        log("conn peer=%s mode=%s received=%d sent=%d outcome=error %s: %s"
            % (peer, mode, received, sent, type(e).__name__, e))
    finally:
        conn.close()


def server(args):
    if ":" in args.bind:
        sock = socket.create_server((args.bind, args.port), family=socket.AF_INET6,
                                    dualstack_ipv6=(args.bind == "::"), reuse_port=False)
    else:
        sock = socket.create_server((args.bind, args.port))
    sock.listen(128)
    log("listening on %s port %d" % (args.bind, args.port))
    while True:
        conn, addr = sock.accept()
        threading.Thread(target=serve_connection, args=(conn, addr[0], args.idle_timeout), daemon=True).start()


def connect(args):
    if args.socks5:
        import socks
        host, _, port = args.socks5.rpartition(":")
        sock = socks.socksocket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.set_proxy(socks.SOCKS5, host.strip("[]"), int(port), rdns=True,
                       username=args.proxy_user, password=args.proxy_password)
        sock.settimeout(args.idle_timeout)
        sock.connect((args.host, args.port))
        return sock
    return socket.create_connection((args.host, args.port), timeout=args.idle_timeout)


def client(args):
    started = time.monotonic()
    sock = connect(args)
    sock.settimeout(args.idle_timeout)
    sock.sendall(("CHECK %s %d %d\\n" % (args.mode, args.reply_bytes, args.seed)).encode("ascii"))
    send_digest = hashlib.sha256()
    sent = [0]
    send_error = []

    def send_all():
        try:
            for block in generate(args.seed, args.send_bytes):
                sock.sendall(block)
                send_digest.update(block)
                sent[0] += len(block)
            sock.shutdown(socket.SHUT_WR)
        except Exception as e:
            send_error.append("%s: %s" % (type(e).__name__, e))

    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    received_digest = hashlib.sha256()
    received = 0
    header = None
    error = None
    try:
        if args.mode == "reply":
            header = read_line(sock, limit=200)
        deadline = started + args.total_timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("total timeout %ss exceeded" % args.total_timeout)
            data = sock.recv(CHUNK)
            if not data:
                break
            received += len(data)
            received_digest.update(data)
    except Exception as e:
        error = "%s: %s" % (type(e).__name__, e)
    sender.join(timeout=args.idle_timeout)
    sock.close()
    elapsed_ms = int((time.monotonic() - started) * 1000)

    sent_sha = send_digest.hexdigest()
    if args.mode == "echo":
        expected_bytes, expected_sha = sent[0], sent_sha
    else:
        expected_bytes, expected_sha = args.reply_bytes, expected_sha256(args.seed + 1, args.reply_bytes)
    server_received, server_sha = -1, ""
    if header:
        parts = header.split()
        if len(parts) == 3 and parts[0] == "RECEIVED":
            server_received, server_sha = int(parts[1]), parts[2]
    ok = (error is None and not send_error and sent[0] == args.send_bytes
          and received == expected_bytes and received_digest.hexdigest() == expected_sha)
    if args.mode == "reply":
        ok = ok and server_received == sent[0] and server_sha == sent_sha
    print("mode=%s" % args.mode)
    print("sent_bytes=%d" % sent[0])
    print("sent_sha256=%s" % sent_sha)
    print("received_bytes=%d" % received)
    print("received_sha256=%s" % received_digest.hexdigest())
    print("expected_received_bytes=%d" % expected_bytes)
    print("expected_received_sha256=%s" % expected_sha)
    print("server_received_bytes=%d" % server_received)
    print("server_received_sha256=%s" % server_sha)
    print("elapsed_ms=%d" % elapsed_ms)
    print("error=%s" % "; ".join(filter(None, [error] + send_error)))
    print("ok=%s" % ("true" if ok else "false"))
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    s.add_argument("--bind", default="::")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--idle-timeout", type=float, default=60)
    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--mode", choices=["echo", "reply"], default="echo")
    c.add_argument("--send-bytes", type=int, default=0)
    c.add_argument("--reply-bytes", type=int, default=0)
    c.add_argument("--seed", type=int, default=42)
    c.add_argument("--idle-timeout", type=float, default=30)
    c.add_argument("--total-timeout", type=float, default=240)
    c.add_argument("--socks5", help="host:port of a SOCKS5 proxy to connect through (PySocks, remote DNS)")
    c.add_argument("--proxy-user")
    c.add_argument("--proxy-password")
    args = parser.parse_args()
    if args.role == "server":
        server(args)
        return 0
    return client(args)


if __name__ == "__main__":
    sys.exit(main())
""";

    private ByteStreamScript() {
    }

    /** Writes the script into the workspace once and returns its path. */
    static synchronized Path writeTo(TestWorkspace workspace) {
        Path file = workspace.work().resolve("bytestream.py");
        if (!file.toFile().exists()) {
            workspace.writeFile(workspace.work(), "bytestream.py", SOURCE);
        }
        return file;
    }
}
