#!/usr/bin/env python3
"""Hostile clients against a release `wharf serve` (issue 13, point 5); run by bench/hostile.sh.

Each pattern gets a fresh server (its own session, stopped by its PID), runs for a bounded
time, and reports: what the hostile requests got (status counts), the server's peak RSS
(VmHWM from /proc/PID/status) beside the cap that bounds it, and the normal `GET /` probes
made throughout (one every 0.25 s on a new connection, 5 s timeout each).
"""

import argparse
import asyncio
import collections
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# The caps, as server-core declares them (live_reload.rs, cache.rs, access.rs).
MAX_STREAMS = 256
MAX_STREAMS_PER_PEER = 16
MAX_LISTING_TOTAL_MIB = 32
MAX_CACHED_TOTAL_MIB = 256
RECORD_CAPS = "target 2 KiB, user agent 512 B, referer 512 B"
# A probe fails if not answered within this: long enough for the kernel's SYN retry (1 s, then
# 3 s) when a connection burst overflows the accept queue, as a browser would wait.
PROBE_TIMEOUT = 5.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `wharf serve` in its own session, on a free port."""

    def __init__(self, wharf, root, extra=()):
        self.port = free_port()
        args = [wharf, "serve", root, "--port", str(self.port), *extra]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit(f"wharf did not start: {' '.join(args)}")
                time.sleep(0.05)

    def status_kib(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


async def exchange(port, request, local_ip=None, timeout=10.0):
    """Sends `request` on a new connection; returns (status, body bytes) or (None, 0)."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                "127.0.0.1", port, local_addr=(local_ip, 0) if local_ip else None
            ),
            timeout,
        )
    except (OSError, asyncio.TimeoutError):
        return None, 0
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
        status = int(data[9:12]) if data.startswith(b"HTTP/") else None
        return status, len(data)
    except (OSError, asyncio.TimeoutError, ValueError):
        return None, 0
    finally:
        writer.close()


def get(path, headers=b""):
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n"


def probe(port, stop, results):
    """A normal `GET /` every 0.25 s until `stop`: latency of each, None for a failure. Runs
    on a thread of its own, so a busy attack loop never delays it."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT) as conn:
                conn.settimeout(max(0.01, PROBE_TIMEOUT - (time.monotonic() - started)))
                conn.sendall(get("/"))
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
            failure = None if data.startswith(b"HTTP/1.1 200") else data[:40]
        except OSError as err:
            failure = repr(err)
        results.append(time.monotonic() - started if failure is None else None)
        if failure is not None:
            print(f"  a normal GET / failed at {time.strftime('%H:%M:%S')}: {failure!r}")
        stop.wait(0.25)


async def hold_stream(port, local_ip, until, counts):
    """Opens the live-reload stream from `local_ip` and holds it open until `until`."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(local_ip, 0))
    except OSError:
        counts["connect failed"] += 1
        return
    try:
        writer.write(b"GET /__wharf/reload HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), max(0.1, until - time.monotonic()))
        status = int(head[9:12])
        counts[status] += 1
        # A refused client goes away, as EventSource does; one that holds idle connections
        # open is another attack, bounded by the idle timeout and the connection limit.
        while status == 200 and time.monotonic() < until:
            try:
                if not await asyncio.wait_for(reader.read(4096), until - time.monotonic()):
                    break
            except asyncio.TimeoutError:
                break
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
        counts["no answer"] += 1
    finally:
        writer.close()


async def sse_http1(port, seconds, addresses, streams):
    until = time.monotonic() + seconds
    counts = collections.Counter()
    ips = [f"127.0.0.{1 + n % addresses}" for n in range(streams)]
    await asyncio.gather(*(hold_stream(port, ip, until, counts) for ip in ips))
    return counts


async def sse_http2(https_port, seconds, connections, streams):
    """`connections` curl processes, each multiplexing `streams` streams over one connection."""
    url = f"https://localhost:{https_port}/__wharf/reload"
    procs = []
    for _ in range(connections):
        args = ["curl", "-sk", "--no-progress-meter", "--http2", "--parallel", "--parallel-max", str(streams),
                "--max-time", str(seconds), "-w", "%{http_code}\\n"]
        for _ in range(streams):
            args += [url, "-o", "/dev/null"]
        procs.append(await asyncio.create_subprocess_exec(
            *args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
    counts = collections.Counter()
    for proc in procs:
        out, _ = await proc.communicate()
        for code in out.split():
            counts[int(code) if code != b"000" else "no answer"] += 1
    return counts


async def listing_flood(port, seconds, queries):
    counts = collections.Counter()
    until = time.monotonic() + seconds
    n = 0
    while n < queries and time.monotonic() < until:
        batch = [exchange(port, get(f"/big/?x={n + i}&utm={n + i}")) for i in range(4)]
        for status, _ in await asyncio.gather(*batch):
            counts[status] += 1
        n += 4
    return counts


async def cache_churn(port, seconds, files):
    counts = collections.Counter()
    until = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < until:
        for n in range(files):
            for coding in (b"identity", b"gzip", b"br"):
                status, _ = await exchange(port, get(f"/page-{n}.html", b"Accept-Encoding: " + coding + b"\r\n"))
                counts[status] += 1
            if time.monotonic() >= until:
                break
        rounds += 1
    return counts


async def huge_headers(port, seconds, requests):
    counts = collections.Counter()
    until = time.monotonic() + seconds
    headers = b"User-Agent: " + b"U" * 30_000 + b"\r\nReferer: http://x/" + b"R" * 30_000 + b"\r\n"
    n = 0
    while n < requests and time.monotonic() < until:
        batch = [exchange(port, get(f"/{'t' * 4000}{n + i}", headers)) for i in range(8)]
        for status, _ in await asyncio.gather(*batch):
            counts[status] += 1
        n += 8
    return counts


def make_site(root):
    os.makedirs(os.path.join(root, "big"))
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<!doctype html><title>hostile</title><p>normal page</p>\n")
    old = time.time() - 3600
    for n in range(5000):
        path = os.path.join(root, "big", f"file-{n:05}-with-a-longer-name.txt")
        with open(path, "w") as f:
            f.write("x")
        os.utime(path, (old, old))
    # 48 pages of 6 MiB: 288 MiB as files, more with their script-added and compressed forms.
    words = " ".join(f"word{n}" for n in range(1000))
    block = (f"<p>{words}</p>\n" * ((6 << 20) // (len(words) + 8))).encode()
    for n in range(48):
        path = os.path.join(root, f"page-{n}.html")
        with open(path, "wb") as f:
            f.write(b"<html><body>" + block + b"</body></html>")
        os.utime(path, (old, old))


async def run_pattern(name, server, seconds, attack, cap):
    stop, probes = threading.Event(), []
    prober = threading.Thread(target=probe, args=(server.port, stop, probes))
    prober.start()
    started = time.monotonic()
    counts = await asyncio.wait_for(attack, seconds + 60)
    elapsed = time.monotonic() - started
    stop.set()
    prober.join()
    hwm, rss = server.status_kib("VmHWM") / 1024, server.status_kib("VmRSS") / 1024
    ok = [p for p in probes if p is not None]
    failed = len(probes) - len(ok)
    worst = max(ok) * 1000 if ok else float("nan")
    outcome = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(f"{name}")
    print(f"  ran {elapsed:.1f} s; hostile requests got {outcome}")
    print(f"  peak RSS {hwm:.0f} MiB (now {rss:.0f} MiB); cap: {cap}")
    print(f"  normal GET /: {len(ok)}/{len(probes)} served, {failed} failed, slowest {worst:.0f} ms")
    sys.stdout.flush()
    return failed == 0


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wharf", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--only")
    args = parser.parse_args()
    secs = args.seconds
    all_served = True
    with tempfile.TemporaryDirectory(prefix="wharf-hostile-") as tmp:
        site = os.path.join(tmp, "site")
        make_site(site)
        print(f"wharf {args.wharf}; each pattern {secs:.0f} s on a fresh server\n")

        def fresh(extra=()):
            return Server(args.wharf, site, extra)

        patterns = [
            ("sse-http1-one-address", lambda s: sse_http1(s.port, secs, 1, 2000), (),
             f"{MAX_STREAMS_PER_PEER} streams per address"),
            ("sse-http1-250-addresses", lambda s: sse_http1(s.port, secs, 250, 4100), (),
             f"{MAX_STREAMS} streams per server (max-connections 4096)"),
            ("sse-http2-10x100", None, None, "max-connections 16: 8 streams, 12 slots for HTTP/2"),
            ("listing-query-flood", lambda s: listing_flood(s.port, secs, 500), (),
             f"listing cache {MAX_LISTING_TOTAL_MIB} MiB"),
            ("cache-churn", lambda s: cache_churn(s.port, secs * 3, 48), (),
             f"file cache {MAX_CACHED_TOTAL_MIB} MiB, every representation"),
            ("huge-headers", lambda s: huge_headers(s.port, secs, 20_000), None,
             f"records: {RECORD_CAPS}"),
        ]
        for name, attack, extra, cap in patterns:
            if args.only and args.only != name:
                continue
            if name == "sse-http2-10x100":
                https_port = free_port()
                server = fresh(["--max-connections", "16", "--https-port", str(https_port),
                                "--cert-dir", os.path.join(tmp, "certs")])
                attack = lambda s, p=https_port: sse_http2(p, secs, 10, 100)  # noqa: E731
            elif name == "huge-headers":
                logs = os.path.join(tmp, "logs")
                server = fresh(["--log-dir", logs])
            else:
                server = fresh(extra)
            try:
                all_served &= await run_pattern(name, server, secs, attack(server), cap)
                if name == "huge-headers":
                    size = sum(os.path.getsize(os.path.join(d, f))
                               for d, _, fs in os.walk(logs) for f in fs if f.endswith(".jsonl"))
                    print(f"  session log: {size / 1024:.0f} KiB on disk, "
                          f"{size / 20_000:.0f} bytes per record")
            finally:
                server.stop()
    print("\nnormal requests served during every pattern" if all_served
          else "\nSOME NORMAL REQUESTS FAILED")
    return 0 if all_served else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
