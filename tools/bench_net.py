# tools/bench_net.py: network figures of one board, from the host through forwarded ports.
#
# HTTP requests/s and p50/p99 latency of GET /health with keep-alive (one connection) and
# without (a connection per request), measured by ApacheBench (`ab`, Debian's apache2-utils)
# one request at a time: QEMU's user-mode network forwards a host port through a listen
# backlog of 1 that it accepts from once per main-loop turn (libslirp's tcpx_listen), so a
# burst of concurrent connects sees the host's 1 s SYN retransmit whatever the guest does.
# The same HTTP service on the unix port (the whole system booted by services/init.py on
# build/unix/micropython, host sockets) is the ceiling (run_unix()). TCP throughput
# host->guest and guest->host (a discard and a source server started in the guest on kernel
# streams), the CPU share of the network tasks while idle and the kernel's busy share under
# HTTP load, heap per open keep-alive connection. QEMU emulates in software: compare within
# one run. `make bench` calls run() and run_unix(); `python tools/bench_net.py BOARD|unix`
# prints the figures alone.
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console import REPO, Console, nic_model  # noqa: E402

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


def ab(port, n, keep):
    """ApacheBench (Debian's apache2-utils), one connection at a time: n GET /health, with
    keep-alive or a connection per request -> (requests/s, p50 ms, p99 ms)."""
    cmd = ["ab", "-q", "-n", str(n), "-c", "1", "-s", "20"]
    cmd += ["-k"] if keep else []
    out = subprocess.run(
        cmd + ["http://127.0.0.1:%d/health" % port],
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    rps = re.search(r"Requests per second:\s+([0-9.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\d+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\d+)", out, re.M)
    bad = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if not (rps and p50 and p99) or bad:
        raise AssertionError("ab against port %d failed:\n%s" % (port, out[-800:]))
    return float(rps.group(1)), int(p50.group(1)), int(p99.group(1))


def http_bench(port):
    """ab with keep-alive (KEEPALIVE_N requests on one connection) and without (CLOSE_N)."""
    out = {}
    for tag, n, keep in (("keepalive", KEEPALIVE_N, True), ("close", CLOSE_N, False)):
        rps, p50, p99 = ab(port, n, keep)
        out["http_%s_req_per_s" % tag] = rps
        out["http_%s_p50_ms" % tag] = p50
        out["http_%s_p99_ms" % tag] = p99
    return out


def run_unix():
    """The same HTTP service on the unix port, the whole system booted as on a board
    (services/init.py on build/unix/micropython), as the ceiling: its http figures."""
    import pexpect

    binary = os.path.join(REPO, "build", "unix", "micropython")
    port = free_port()
    env = dict(
        os.environ, MICROPYPATH=".frozen:.", MULTIOS_DISK="", MULTIOS_CMDLINE="http.port=%d" % port
    )
    p = pexpect.spawn(
        binary,
        ["-X", "heapsize=8M", "-c", "import services.init as i; i.main()"],
        cwd=REPO,
        env=env,
        encoding="utf-8",
        timeout=60,
    )
    try:
        p.expect_exact("multios> ")
        p.sendline("log -n 60")
        p.expect_exact("http: listening on port %d" % port)
        p.expect_exact("multios> ")
        return http_bench(port)
    finally:
        p.sendline("poweroff")
        p.expect(pexpect.EOF)
        p.close()


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
        print(b, json.dumps(run_unix() if b == "unix" else run(b)))
