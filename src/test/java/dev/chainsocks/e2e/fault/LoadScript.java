package dev.chainsocks.e2e.fault;

import dev.chainsocks.e2e.TestWorkspace;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Python program behind {@link LoadServer} and {@link LoadClient}, kept here as text (the harness ships no
 * resource files) and written into the test's work directory when first needed. asyncio, so one process holds
 * thousands of connections; every byte a client receives is compared with the pattern at its offset.
 */
final class LoadScript {

    static final String SOURCE = """
'''Load for the chainsocks fault and soak suites: one asyncio server and three client programs.

Every connection starts with one header line from the client:
  ECHO          the server sends back every byte it receives, and half-closes after the client's EOF.
  SOURCE <n>    the server sends <n> bytes of the pattern, then closes.
The pattern is a pseudo-random block of a prime length (so it never lines up with any buffer size) repeated; the
byte at stream offset o is PATTERN[o % len]. A client compares every byte it receives with the pattern at that
offset, so a lost, repeated, reordered or altered byte fails the stream where it happens, not only in a digest.

Clients print one "key=value ..." line per event a test waits for, and a final summary line; every run is bounded
in count and in time (--max-seconds).
'''
import argparse
import asyncio
import collections
import errno
import os
import random
import signal
import socket
import sys
import time

PATTERN_LENGTH = 1048573  # prime
CHUNK = 65536
PATTERN = random.Random(20240917).randbytes(PATTERN_LENGTH)
DOUBLED = memoryview(PATTERN + PATTERN[:4 * CHUNK])


def expected(offset, n):
    start = offset % PATTERN_LENGTH
    return DOUBLED[start:start + n]


def out(line):
    sys.stdout.write(line + "\\n")
    sys.stdout.flush()


def classify(e):
    if isinstance(e, Corrupt):
        return "corrupt"
    if isinstance(e, ConnectionResetError):
        return "reset"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(e, (asyncio.IncompleteReadError, EOFError, BrokenPipeError)):
        return "closed"
    if isinstance(e, OSError) and e.errno is not None:
        return errno.errorcode.get(e.errno, str(e.errno)).lower()
    return type(e).__name__


class Corrupt(Exception):
    pass


# ---------------------------------------------------------------- server

async def serve(reader, writer):
    try:
        header = (await reader.readline()).split()
        if header == [b"ECHO"]:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        elif len(header) == 2 and header[0] == b"SOURCE":
            left = int(header[1])
            offset = 0
            while left > 0:
                n = min(CHUNK, left)
                writer.write(expected(offset, n))
                await writer.drain()
                offset += n
                left -= n
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def server(args):
    # host None: one socket per family (asyncio makes an IPv6 socket IPv6-only)
    host = None if args.bind == "::" else args.bind
    srv = await asyncio.start_server(serve, host=host, port=args.port, backlog=4096, limit=CHUNK)
    out("listening port=%d" % args.port)
    async with srv:
        await srv.serve_forever()


# ---------------------------------------------------------------- clients

async def open_connection(args):
    return await asyncio.wait_for(asyncio.open_connection(args.host, args.port, limit=4 * CHUNK), args.timeout)


async def echo_round(reader, writer, tag, timeout):
    writer.write(tag)
    await writer.drain()
    back = await asyncio.wait_for(reader.readexactly(len(tag)), timeout)
    if back != tag:
        raise Corrupt("echo mismatch")


async def hold(args):
    '''Opens --count connections, checks each relays an echo, holds them until SIGUSR1, checks them again.'''
    started = time.monotonic()
    held = []
    outcomes = collections.Counter()
    gate = asyncio.Semaphore(args.concurrency)

    async def one(i):
        async with gate:
            writer = None
            try:
                reader, writer = await open_connection(args)
                writer.write(b"ECHO\\n")
                await echo_round(reader, writer, b"hold %08d......................" % i, args.timeout)
                held.append((i, reader, writer))
                outcomes["ok"] += 1
            except Exception as e:
                outcomes[classify(e)] += 1
                if writer is not None:
                    writer.close()

    await asyncio.gather(*(one(i) for i in range(args.count)))
    out("opened %s elapsed_ms=%d" % (summary(outcomes, args.count), (time.monotonic() - started) * 1000))

    release = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, release.set)
    try:
        await asyncio.wait_for(release.wait(), args.max_seconds)
    except asyncio.TimeoutError:
        out("release not signalled within %ds" % args.max_seconds)

    started = time.monotonic()
    alive = collections.Counter()

    async def check(i, reader, writer):
        async with gate:
            try:
                await echo_round(reader, writer, b"again %08d....................." % i, args.timeout)
                writer.write_eof()
                rest = await asyncio.wait_for(reader.read(), args.timeout)
                alive["ok" if rest == b"" else "corrupt"] += 1
            except Exception as e:
                alive[classify(e)] += 1
            finally:
                writer.close()

    await asyncio.gather(*(check(*h) for h in held))
    out("released %s elapsed_ms=%d" % (summary(alive, len(held)), (time.monotonic() - started) * 1000))


def summary(counter, total):
    ok = counter.get("ok", 0)
    failed = sum(v for k, v in counter.items() if k != "ok")
    reasons = ",".join("%s:%d" % (k, v) for k, v in sorted(counter.items()) if k != "ok") or "-"
    return "total=%d ok=%d failed=%d reasons=%s" % (total, ok, failed, reasons)


async def stream_one(args, i, deadline):
    '''One checked stream; returns (outcome, bytes received).'''
    received = 0
    writer = None
    try:
        reader, writer = await open_connection(args)
        if args.mode == "echo":
            writer.write(b"ECHO\\n")

            async def send():
                sent = 0
                while sent < args.bytes:
                    n = min(CHUNK, args.bytes - sent)
                    writer.write(expected(sent, n))
                    await writer.drain()
                    sent += n
                writer.write_eof()

            sender = asyncio.ensure_future(send())
        else:
            writer.write(b"SOURCE %d\\n" % args.bytes)
            sender = None
        period = CHUNK / args.read_rate if args.read_rate > 0 else 0
        size = min(CHUNK, args.read_rate) if args.read_rate > 0 else 4 * CHUNK
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError()
            data = await asyncio.wait_for(reader.read(size), min(left, args.timeout))
            if not data:
                break
            if data != expected(received, len(data)):
                raise Corrupt("byte mismatch at offset %d" % received)
            if received == 0:
                out("flowing index=%d" % i)
            received += len(data)
            if received > args.bytes:
                raise Corrupt("more bytes than sent")
            if period:
                await asyncio.sleep(period * len(data) / CHUNK)
        if sender is not None:
            await asyncio.wait_for(sender, args.timeout)
        if received != args.bytes:
            raise EOFError("closed after %d of %d bytes" % (received, args.bytes))
        return "ok", received
    except Exception as e:
        return classify(e), received
    finally:
        if writer is not None:
            writer.close()


async def streams(args):
    '''--count concurrent checked streams of --bytes each; one "stream" line as each ends.'''
    started = time.monotonic()
    deadline = started + args.max_seconds
    outcomes = collections.Counter()
    total = [0]

    async def one(i):
        t0 = time.monotonic()
        outcome, received = await stream_one(args, i, deadline)
        outcomes[outcome] += 1
        total[0] += received
        out("stream index=%d outcome=%s bytes=%d elapsed_ms=%d" % (i, outcome, received,
                                                                   (time.monotonic() - t0) * 1000))

    await asyncio.gather(*(one(i) for i in range(args.count)))
    elapsed = time.monotonic() - started
    out("streams %s bytes=%d elapsed_ms=%d" % (summary(outcomes, args.count), total[0], elapsed * 1000))


async def churn(args):
    '''--count short echo connections, --concurrency at a time, stopping early at --max-seconds.'''
    started = time.monotonic()
    deadline = started + args.max_seconds
    outcomes = collections.Counter()
    payload = bytes(expected(0, args.bytes))
    next_index = [0]

    async def worker():
        while next_index[0] < args.count and time.monotonic() < deadline:
            next_index[0] += 1
            writer = None
            try:
                reader, writer = await open_connection(args)
                writer.write(b"ECHO\\n" + payload)
                writer.write_eof()
                back = await asyncio.wait_for(reader.read(), args.timeout)
                outcomes["ok" if back == payload else "corrupt"] += 1
            except Exception as e:
                outcomes[classify(e)] += 1
            finally:
                if writer is not None:
                    writer.close()

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    elapsed = time.monotonic() - started
    done = sum(outcomes.values())
    out("churn %s notrun=%d elapsed_ms=%d" % (summary(outcomes, done), args.count - done, elapsed * 1000))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    s.add_argument("--bind", default="::")
    s.add_argument("--port", type=int, required=True)
    for name in ("hold", "streams", "churn"):
        c = sub.add_parser(name)
        c.add_argument("--host", required=True)
        c.add_argument("--port", type=int, required=True)
        c.add_argument("--count", type=int, default=1)
        c.add_argument("--concurrency", type=int, default=64)
        c.add_argument("--timeout", type=float, default=10, help="per step: connect, one read")
        c.add_argument("--max-seconds", type=float, default=60, help="the whole run")
        c.add_argument("--mode", choices=["echo", "download"], default="download")
        c.add_argument("--bytes", type=int, default=64)
        c.add_argument("--read-rate", type=int, default=0, help="bytes per second per stream; 0: as fast as possible")
    args = parser.parse_args()
    # One descriptor per connection: raise the soft limit to the hard one.
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    program = {"server": server, "hold": hold, "streams": streams, "churn": churn}[args.role]
    try:
        asyncio.run(program(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
""";

    private LoadScript() {
    }

    static synchronized Path writeTo(TestWorkspace workspace) {
        Path file = workspace.work().resolve("fault_load.py");
        if (!Files.exists(file)) {
            workspace.writeFile(workspace.work(), "fault_load.py", SOURCE);
        }
        return file;
    }
}
