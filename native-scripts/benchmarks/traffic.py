#!/usr/bin/python3
"""Traffic sources, sinks and clients for native-scripts/benchmarks/run.sh.

Every loop here is bounded by a count and a deadline. Clients can go through a SOCKS5 proxy (no authentication,
CONNECT to an IPv4 address); the handshake is done by hand so that after it the socket is a plain socket and the
data path is the same with and without a proxy.

  source   --listen H:P --seconds S          on each connection send zeros for S seconds, then close
  download --to H:P [--socks5 H:P]           connect, read until EOF; prints "bytes seconds MB/s"
  echo     --listen H:P                      per connection: echo what arrives until EOF (also an idle sink)
  cps      --to H:P --count N --concurrency C --deadline S
                                             N short connections, C at a time: connect, send 16 bytes,
                                             read them back, close; prints "ok failed seconds conn/s"
  hold     --to H:P [--socks5 H:P] --count N --hold S
                                             open N connections (tunnels), print "held N", keep them S seconds

Servers run until killed (the runner stops them by PID); they stop by themselves after --lifetime seconds.
"""

import argparse
import asyncio
import os
import resource
import socket
import struct
import sys
import threading
import time

CHUNK = 1 << 20


def host_port(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def socks5_connect(sock, target):
    """SOCKS5 no-auth CONNECT to an IPv4 target on an already connected socket (blocking)."""
    host, port = target
    sock.sendall(b"\x05\x01\x00")
    if recv_exact(sock, 2) != b"\x05\x00":
        raise OSError("SOCKS5 proxy refused the no-authentication method")
    sock.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) + struct.pack("!H", port))
    reply = recv_exact(sock, 10)
    if reply[1] != 0:
        raise OSError("SOCKS5 CONNECT failed, reply code %d" % reply[1])


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        part = sock.recv(n - len(data))
        if not part:
            raise OSError("connection closed during SOCKS5 handshake")
        data += part
    return data


def open_connection(target, proxy, timeout=10.0):
    sock = socket.create_connection(proxy or target, timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if proxy:
        socks5_connect(sock, target)
    return sock


def lifetime_guard(seconds):
    timer = threading.Timer(seconds, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


def cmd_source(args):
    lifetime_guard(args.lifetime)
    server = socket.create_server(host_port(args.listen), backlog=128, reuse_port=False)
    zeros = memoryview(bytes(CHUNK))

    def serve(conn):
        with conn:
            deadline = time.monotonic() + args.seconds
            try:
                while time.monotonic() < deadline:
                    conn.sendall(zeros)
            except OSError:
                pass

    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def cmd_download(args):
    target = host_port(args.to)
    proxy = host_port(args.socks5) if args.socks5 else None
    sock = open_connection(target, proxy)
    sock.settimeout(args.deadline)
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    first = None
    stop_at = time.monotonic() + args.deadline
    while time.monotonic() < stop_at:
        n = sock.recv_into(view)
        if n == 0:
            break
        if first is None:
            first = time.monotonic()
        total += n
    end = time.monotonic()
    sock.close()
    seconds = end - first if first else 0.0
    rate = total / seconds / 1e6 if seconds > 0 else 0.0
    print("%d %.3f %.1f" % (total, seconds, rate))


def cmd_echo(args):
    raise_fd_limit()
    lifetime_guard(args.lifetime)

    async def handle(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def main():
        host, port = host_port(args.listen)
        server = await asyncio.start_server(handle, host, port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def cmd_cps(args):
    raise_fd_limit()
    target = host_port(args.to)
    message = b"0123456789abcdef"

    async def one():
        reader, writer = await asyncio.open_connection(*target)
        try:
            writer.write(message)
            got = await reader.readexactly(len(message))
            if got != message:
                raise OSError("wrong echo")
        finally:
            writer.close()

    async def worker(state, deadline):
        while state["next"] < args.count and time.monotonic() < deadline:
            state["next"] += 1
            try:
                await asyncio.wait_for(one(), timeout=5)
                state["ok"] += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                state["failed"] += 1

    async def main():
        state = {"next": 0, "ok": 0, "failed": 0}
        start = time.monotonic()
        deadline = start + args.deadline
        await asyncio.gather(*(worker(state, deadline) for _ in range(args.concurrency)))
        seconds = time.monotonic() - start
        print("%d %d %.3f %.1f" % (state["ok"], state["failed"], seconds, state["ok"] / seconds))

    asyncio.run(main())


def cmd_hold(args):
    raise_fd_limit()
    target = host_port(args.to)
    proxy = host_port(args.socks5) if args.socks5 else None
    held = []
    deadline = time.monotonic() + args.deadline
    try:
        for _ in range(args.count):
            if time.monotonic() > deadline:
                break
            held.append(open_connection(target, proxy))
        # One round trip on every tunnel, so each is known to reach the sink, then nothing more.
        for sock in held:
            sock.sendall(b"x")
        for sock in held:
            recv_exact(sock, 1)
        print("held %d" % len(held), flush=True)
        time.sleep(args.hold)
    finally:
        for sock in held:
            sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("source")
    p.add_argument("--listen", required=True)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--lifetime", type=float, default=1800)
    p.set_defaults(run=cmd_source)

    p = sub.add_parser("download")
    p.add_argument("--to", required=True)
    p.add_argument("--socks5")
    p.add_argument("--deadline", type=float, default=60)
    p.set_defaults(run=cmd_download)

    p = sub.add_parser("echo")
    p.add_argument("--listen", required=True)
    p.add_argument("--lifetime", type=float, default=1800)
    p.set_defaults(run=cmd_echo)

    p = sub.add_parser("cps")
    p.add_argument("--to", required=True)
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--deadline", type=float, default=30)
    p.set_defaults(run=cmd_cps)

    p = sub.add_parser("hold")
    p.add_argument("--to", required=True)
    p.add_argument("--socks5")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--hold", type=float, default=10)
    p.add_argument("--deadline", type=float, default=60)
    p.set_defaults(run=cmd_hold)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
