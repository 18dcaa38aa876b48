# tools/bench_net.py: network figures of one board, from the host through forwarded ports.
#
# HTTP requests/s and p50/p99 latency of GET /health with keep-alive (one connection) and
# without (a connection per request), TCP throughput host->guest and guest->host (a discard
# and a source server started in the guest on kernel streams), the CPU share of the network
# tasks while idle and the kernel's busy share under HTTP load, heap per open keep-alive
# connection. QEMU emulates in software: compare within one run. `make bench` calls run();
# `python tools/bench_net.py BOARD` prints the figures alone.
import http.client
import json
import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console import Console, nic_model  # noqa: E402

KEEPALIVE_N = 200
CLOSE_N = 50
OPEN_CONNS = 16
TCP_BYTES = 1 << 20
IDLE_S = 5
NET_TASKS = ("netd", "net-wake", "http", "server:80")
GUEST_TCP = 7001  # the guest's discard (reads) and source (writes) server

SERVERS = (
    "import asyncio",
    "async def _sink(r, w):\\n"
    "    n = 0\\n"
    "    while True:\\n"
    "        d = await r.read(4096)\\n"
    "        if not d: break\\n"
    "        n += len(d)\\n"
    "    w.write(b'%d\\\\n' % n); await w.drain(); w.close()",
    "async def _tcp(r, w):\\n"
    "    cmd = await r.readline()\\n"
    "    if cmd.startswith(b'get '):\\n"
    "        left = int(cmd[4:]); blk = b'x' * 4096\\n"
    "        while left > 0:\\n"
    "            w.write(blk[:left]); await w.drain(); left -= 4096\\n"
    "        w.close()\\n"
    "    else:\\n"
    "        await _sink(r, w)",
    "async def _serve():\\n    await asyncio.start_server(_tcp, '0.0.0.0', %d)" % GUEST_TCP,
)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def py(c, code):
    out = c.cmd("py " + code)
    return out[-1] if out else ""


def net_cpu_us(c):
    total = 0
    for row in c.cmd("ps")[1:]:
        parts = row.split()
        if len(parts) >= 6 and parts[1] in NET_TASKS:
            total += int(parts[5])
    return total


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def http_bench(port):
    out = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    lat = []
    t0 = time.monotonic()
    for _ in range(KEEPALIVE_N):
        t = time.monotonic()
        conn.request("GET", "/health")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        lat.append(time.monotonic() - t)
    out["http_keepalive_req_per_s"] = round(KEEPALIVE_N / (time.monotonic() - t0), 1)
    out["http_keepalive_p50_ms"] = round(statistics.median(lat) * 1000, 2)
    out["http_keepalive_p99_ms"] = round(pct(lat, 0.99) * 1000, 2)
    conn.close()
    lat = []
    t0 = time.monotonic()
    for _ in range(CLOSE_N):
        t = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("GET", "/health", headers={"Connection": "close"})
        r = conn.getresponse()
        r.read()
        conn.close()
        lat.append(time.monotonic() - t)
    out["http_close_req_per_s"] = round(CLOSE_N / (time.monotonic() - t0), 1)
    out["http_close_p50_ms"] = round(statistics.median(lat) * 1000, 2)
    out["http_close_p99_ms"] = round(pct(lat, 0.99) * 1000, 2)
    return out


def tcp_bench(port):
    out = {}
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"put\n")
    blk = b"y" * 65536
    t0 = time.monotonic()
    sent = 0
    while sent < TCP_BYTES:
        s.sendall(blk)
        sent += len(blk)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while not got.endswith(b"\n"):
        d = s.recv(100)
        if not d:
            break
        got += d
    dt = time.monotonic() - t0
    s.close()
    assert int(got) == TCP_BYTES, got
    out["tcp_host_to_guest_kib_s"] = round(TCP_BYTES / 1024 / dt, 1)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    t0 = time.monotonic()
    s.sendall(b"get %d\n" % TCP_BYTES)
    n = 0
    while n < TCP_BYTES:
        d = s.recv(65536)
        if not d:
            break
        n += len(d)
    dt = time.monotonic() - t0
    s.close()
    assert n == TCP_BYTES, n
    out["tcp_guest_to_host_kib_s"] = round(TCP_BYTES / 1024 / dt, 1)
    return out


def run(board):
    """The network figures of `board` as a dict (empty if it has no NIC driver)."""
    model = nic_model(board)
    if not model:
        return {}
    http_port, tcp_port = free_port(), free_port()
    nic = "user,model=%s,hostfwd=tcp:127.0.0.1:%d-:80,hostfwd=tcp:127.0.0.1:%d-:%d" % (
        model,
        http_port,
        tcp_port,
        GUEST_TCP,
    )
    c = Console(board, "bench-net", 300.0, ["-nic", nic])
    out = {}
    try:
        c.boot()
        while not any("netd: up" in ln for ln in c.cmd("log -n 40")):
            time.sleep(0.2)
        cpu0, t0 = net_cpu_us(c), time.monotonic()
        time.sleep(IDLE_S)
        cpu1, t1 = net_cpu_us(c), time.monotonic()
        out["net_idle_cpu_pct"] = round((cpu1 - cpu0) / 1e6 / (t1 - t0) * 100, 3)
        busy0 = json.loads(py(c, "print('[%d, %d]' % (kernel.uptime_ms(), kernel.idle_ms()))"))
        out.update(http_bench(http_port))
        busy1 = json.loads(py(c, "print('[%d, %d]' % (kernel.uptime_ms(), kernel.idle_ms()))"))
        up, idle = busy1[0] - busy0[0], busy1[1] - busy0[1]
        out["http_load_busy_pct"] = round((up - idle) * 100 / up, 1) if up else 0
        base = int(py(c, "import gc; gc.collect(); print(gc.mem_free())"))
        conns = []
        for _ in range(OPEN_CONNS):
            h = http.client.HTTPConnection("127.0.0.1", http_port, timeout=20)
            h.request("GET", "/health")
            h.getresponse().read()
            conns.append(h)
        now = int(py(c, "gc.collect(); print(gc.mem_free())"))
        out["http_heap_per_conn_b"] = (base - now) // OPEN_CONNS
        for h in conns:
            h.close()
        for chunk in SERVERS:
            c.cmd('py exec("%s")' % chunk)
        c.cmd("py _t = kernel.spawn(_serve(), 'bench-tcp')")
        time.sleep(0.5)
        out.update(tcp_bench(tcp_port))
        c.poweroff()
    finally:
        c.close()
    return out


if __name__ == "__main__":
    for b in sys.argv[1:] or ["arm"]:
        print(b, json.dumps(run(b)))
