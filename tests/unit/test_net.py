# Tests for the network's Python side: ping's ICMP, wget's URLs, netd's prefix, the HTTP
# service's parser and router, and kernel/streams over the unix port's host sockets.
import errno

import kernel
import kernel.asyncio as asyncio  # noqa: PLR0402 - not through kernel.__getattr__
from kernel import netwait, params, streams
from kernel.clock import VirtualClock
from kernel.task import DONE
from services import http, netcmds, netd


def _port():
    # A random port below the host's ephemeral range (Linux: 32768 up), where the client
    # ends of other tests' connections (a boot test's thousands of drops, ab) take theirs:
    # a fixed one (the virtual clock's now_ms() is the same every run) collided.
    import _hal

    b = _hal.entropy_bytes(2)
    return 20000 + (b[0] << 8 | b[1]) % 12000


def fresh():
    return kernel.reset(VirtualClock(0, 0))


def test_icmp_checksum_of_a_known_packet():
    # RFC 1071's example words: 0x0001 0xf203 0xf4f5 0xf6f7 sum to 0xddf2, checksum 0x220d.
    assert netcmds.checksum(bytes([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7])) == 0x220D
    req = netcmds.echo_request(7)
    assert len(req) == 40 and req[0] == 8
    assert netcmds.checksum(req) == 0  # a valid packet sums to zero with its checksum


def test_parse_reply_with_and_without_ip_header():
    req = bytearray(netcmds.echo_request(3))
    req[0] = 0  # an echo reply
    assert netcmds.parse_reply(bytes(req)) == (3, 0)
    ip = bytes([0x45, 0, 0, 60, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 2, 2, 10, 0, 2, 15])
    assert netcmds.parse_reply(ip + bytes(req)) == (3, 64)
    other = bytearray(req)
    other[5] ^= 1  # someone else's id
    assert netcmds.parse_reply(bytes(other)) is None
    assert netcmds.parse_reply(netcmds.echo_request(3)) is None  # a request, not a reply
    assert netcmds.parse_reply(b"\x00\x00") is None


def test_ping_arguments():
    assert netcmds._parse_ping("10.0.2.2") == ("10.0.2.2", params.PING_COUNT)
    assert netcmds._parse_ping("-c 2 10.0.2.2") == ("10.0.2.2", 2)
    assert netcmds._parse_ping("a b")[0] is None
    assert netcmds._parse_ping("")[0] is None


def test_split_url():
    assert netcmds.split_url("http://10.0.2.100/a/b") == ("10.0.2.100", 80, "/a/b")
    assert netcmds.split_url("http://h:8080") == ("h", 8080, "/")
    for bad in ("ftp://h/", "http:///x", "h/x", "http://h:abc/", "http://h:0/", "http://h:/"):
        try:
            netcmds.split_url(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_a_host_that_does_not_resolve_is_one_line_not_an_exception():
    # getaddrinfo's failure (lwIP: OSError(-2); the unix port: '[addrinfo error -2]') is
    # told as the host that did not resolve; another OSError is not mistaken for one.
    assert netcmds.unresolved(OSError(-2)) == "addrinfo error -2"
    assert netcmds.unresolved(OSError("[addrinfo error -3]")) == "addrinfo error -3"
    assert netcmds.unresolved(OSError(errno.ECONNRESET)) is None
    fresh()
    out = []
    got = asyncio.run(netcmds.ping(out.append, "no-such-host.invalid", 1))
    assert got == 0
    assert len(out) == 1 and out[0].startswith(
        "ping: cannot resolve host 'no-such-host.invalid' ("
    ), out


def test_ping_without_a_route_says_so_in_one_line():
    # A board whose network is down (x86_64 booted without a NIC): sendto fails with
    # EHOSTUNREACH; ping says so once and counts what it sent, it does not raise.
    import sys

    class Sock:
        def setblocking(self, flag):
            pass

        def sendto(self, data, addr):
            raise OSError(errno.EHOSTUNREACH)

        def close(self):
            pass

    class FakeSocket:
        AF_INET, SOCK_RAW = 2, 3

        def getaddrinfo(self, host, port):
            return [(2, 3, 1, "", ("10.0.2.2", 0))]

        def socket(self, *args):
            return Sock()

    fresh()
    real = sys.modules.get("socket")
    sys.modules["socket"] = FakeSocket()
    try:
        out = []
        assert asyncio.run(netcmds.ping(out.append, "10.0.2.2", 3)) == 0
    finally:
        if real is None:
            del sys.modules["socket"]
        else:
            sys.modules["socket"] = real
    assert out[1] == (
        "ping: 10.0.2.2: EHOSTUNREACH (no route to the host: is an interface up? see 'ifconfig')"
    ), out
    assert out[-1] == "0 packets transmitted, 0 received, 0% packet loss", out
    assert netcmds.sock_error(OSError(errno.ECONNRESET)) == "ECONNRESET"


def test_prefix_len():
    assert netd.prefix_len("255.255.255.0") == 24
    assert netd.prefix_len("255.255.0.0") == 16
    assert netd.prefix_len("0.0.0.0") == 0


class FakeReader:
    """readline() over fixed bytes, as kernel.streams.Stream does (limit included)."""

    def __init__(self, data):
        self.data = data

    async def readline(self, limit=-1):
        i = self.data.find(b"\n")
        n = len(self.data) if i < 0 else i + 1
        if limit > 0:
            n = min(n, limit)
        line, self.data = self.data[:n], self.data[n:]
        return line


def head_of(data):
    fresh()

    async def go():
        try:
            return await http.read_head(FakeReader(data))
        except http.HttpError as e:
            return e.status

    return asyncio.run(go())


def test_http_head_parsing():
    m, t, v, h = head_of(b"GET /health?x=1 HTTP/1.1\r\nHost: a\r\nX-Y:  z \r\n\r\n")
    assert (m, t, v) == ("GET", "/health?x=1", "HTTP/1.1")
    assert h == {"host": "a", "x-y": "z"}
    assert head_of(b"") is None  # closed before a byte: no answer owed


def test_http_bad_and_oversized_heads():
    assert head_of(b"garbage\r\n\r\n") == 400
    assert head_of(b"GET / HTTP/1.1\r\nno colon\r\n\r\n") == 400
    assert head_of(b"GET / HTTP/1.1\r\nHost: a\r\n") == 400  # ended in the middle
    assert head_of(b"GET / SPDY/9\r\n\r\n") == 400
    assert head_of(b"GET /" + b"a" * params.HTTP_LINE_MAX + b" HTTP/1.1\r\n\r\n") == 413
    pad = b"X: " + b"p" * (params.HTTP_LINE_MAX - 10) + b"\r\n"
    many = b"GET / HTTP/1.1\r\n" + pad * (params.HTTP_HEADER_MAX // len(pad) + 1) + b"\r\n"
    assert head_of(many) == 413


def test_http_router():
    fresh()
    assert http.dispatch("GET", "/nope")[0] == 404
    assert http.dispatch("POST", "/health")[0] == 405
    status, ctype, body = http.dispatch("GET", "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert b"multios_uptime_seconds " in body
    r = http.response(200, "text/plain", b"hi", True)
    assert r == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
        b"Connection: keep-alive\r\n\r\nhi"
    )


def test_streams_echo_over_host_sockets():
    # The unix port's host sockets behind the same API: a server and a client in two tasks.
    fresh()
    port = _port()

    async def echo(r, w):
        while True:
            line = await r.readline()
            if not line:
                break
            w.write(line)
            await w.drain()

    async def main():
        srv = await asyncio.start_server(echo, "127.0.0.1", port)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        out = []
        for i in range(5):
            w.write(b"line %d\n" % i)
            await w.drain()
            out.append(await r.readline())
        w.write(b"abcdef\n")
        await w.drain()
        out.append(await r.readexactly(3))
        out.append(await r.read(4))
        w.close()
        await w.wait_closed()
        srv.close()
        await srv.wait_closed()
        return out

    out = asyncio.run(asyncio.wait_for(main(), 30))
    assert out == [
        b"line 0\n",
        b"line 1\n",
        b"line 2\n",
        b"line 3\n",
        b"line 4\n",
        b"abc",
        b"def\n",
    ]
    assert asyncio.StreamReader is streams.Stream and asyncio.StreamWriter is streams.Stream


def test_server_closed_by_its_own_accept_task_ends_cleanly():
    # close() from the server's own task (here inside its accept loop) must not cancel that
    # task, which Task.cancel refuses ("can't cancel self"): the loop sees the socket gone
    # and returns.
    fresh()
    seen = []

    class Sock:
        def accept(self):
            seen.append("accept")
            srv.close()
            raise OSError(errno.EAGAIN)

        def close(self):
            seen.append("close")

    srv = streams.Server(Sock(), None)

    async def main():
        srv.task = kernel.spawn(srv._serve(), "server")
        await srv.wait_closed()

    asyncio.run(main())
    assert seen == ["accept", "close"]
    assert srv.s is None and srv.task.state == DONE, srv.task.exc


def test_server_limit_holds_connections_in_the_backlog():
    # limit=2: a third and fourth client wait (accepted only when one ends), none is dropped.
    fresh()
    port = _port()
    seen = {"now": 0, "most": 0, "served": 0}
    go = asyncio.Event()

    async def hold(r, w):
        seen["now"] += 1
        seen["most"] = max(seen["most"], seen["now"])
        await go.wait()
        w.write(await r.readline())
        await w.drain()
        seen["now"] -= 1
        seen["served"] += 1

    async def client(i):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"c%d\n" % i)
        await w.drain()
        line = await r.readline()
        w.close()
        return line

    async def main():
        srv = await asyncio.start_server(hold, "127.0.0.1", port, 8, limit=2)
        tasks = [asyncio.create_task(client(i)) for i in range(4)]
        for _ in range(50):
            await asyncio.sleep_ms(params.NET_POLL_MS)
        waiting = (seen["now"], srv.active)
        go.set()
        out = []
        for t in tasks:
            out.append(await t)
        srv.close()
        await srv.wait_closed()
        return waiting, out

    waiting, out = asyncio.run(asyncio.wait_for(main(), 30))
    assert waiting == (2, 2), waiting
    assert out == [b"c0\n", b"c1\n", b"c2\n", b"c3\n"] and seen["most"] == 2, (out, seen)


def test_discard_makes_the_close_a_fin_not_a_reset():
    # Unread input at close makes the host's TCP (as lwIP) send a reset, and the peer's read
    # fails; after discard() the peer reads the answer and then a clean end of stream.
    fresh()
    port = _port()

    async def answer(r, w):
        await r.readline()
        w.write(b"no\n")
        await w.drain()
        for _ in range(20):  # let the rest of the request arrive
            await asyncio.sleep_ms(params.NET_POLL_MS)
        w.discard()
        w.close()

    async def main():
        srv = await asyncio.start_server(answer, "127.0.0.1", port)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"bad\n" + b"x" * 3000)
        await w.drain()
        got = [await r.readline()]
        try:
            got.append(await r.read(10))
        except OSError as e:
            got.append(e.errno)
        w.close()
        srv.close()
        await srv.wait_closed()
        return got

    assert asyncio.run(asyncio.wait_for(main(), 30)) == [b"no\n", b""]


def test_metrics_heap_free_is_sampled_in_a_task_of_its_own():
    # gc.mem_free() walks the heap (~140 ms on ARM): a scrape reuses a sample, and a stale one
    # is refreshed by a task, never in the request's step.
    fresh()
    http._heap[0] = -1
    http._sampling[0] = False

    async def main():
        first = http.heap_free()  # starts the sampler; nothing sampled yet
        await asyncio.sleep_ms(1)
        second = http.heap_free()
        await asyncio.sleep_ms(params.HTTP_HEAP_SAMPLE_MS + 1)
        http.heap_free()
        names = [t.name for t in kernel.scheduler().tasks() if t.name == "http-heap"]
        return first, second, names

    first, second, names = asyncio.run(main())
    assert first == -1 and second > 0, (first, second)
    assert len(names) == 2, names  # one sample at first, one after it went stale


def _blocking(out, ticks):
    # A task that calls netwait.block() as modlwip's loop does: (result, ms, others' ticks).
    async def go():
        t0 = kernel.now_ms()
        n = len(ticks)
        r = netwait.block()
        out.append((r, kernel.now_ms() - t0, len(ticks) - n))

    return go()


def test_block_runs_the_others_for_a_slice_never_the_caller():
    fresh()
    out = []
    ticks = []

    async def ticker():
        while True:
            ticks.append(1)
            await asyncio.sleep_ms(2)

    async def main():
        tk = asyncio.create_task(ticker())
        b = kernel.spawn(_blocking(out, ticks), "blocked")
        await asyncio.sleep_ms(params.NET_BLOCK_SLICE_MS * 3)
        tk.cancel()
        return b

    b = asyncio.run(main())
    # No event came: the slice passed with the ticker stepping (every 2 ms), then it returned.
    assert b.reason == "exit" and len(out) == 1, (b.reason, out)
    r, ms, n = out[0]
    assert r is True and params.NET_BLOCK_SLICE_MS <= ms < 2 * params.NET_BLOCK_SLICE_MS, out
    assert n >= params.NET_BLOCK_SLICE_MS // 2 - 1, out
    assert netwait._depth == 0


def test_block_ends_at_the_next_event_and_raises_a_cancel():
    fresh()
    out = []

    async def main():
        b = kernel.spawn(_blocking(out, []), "blocked")
        await asyncio.sleep_ms(3)
        netwait.on_event()  # what lwIP's poll calls after input
        await asyncio.sleep_ms(params.NET_BLOCK_SLICE_MS * 2)
        c = kernel.spawn(_blocking(out, []), "cancelled")
        await asyncio.sleep_ms(1)  # c is blocked now: this runs in its nested loop
        c.cancel()
        await asyncio.sleep_ms(params.NET_BLOCK_SLICE_MS * 2)
        return b, c

    b, c = asyncio.run(main())
    assert len(out) == 1 and out[0][0] is True and out[0][1] <= 3, out  # woken by the event
    assert b.reason == "exit" and c.reason == "cancelled", (b.reason, c.reason)


def test_block_is_plain_for_the_foreground_and_outside_the_scheduler():
    fresh()
    assert netwait.block() is False  # no scheduler running (boot)

    async def fg():
        me = kernel.current()
        kernel.set_foreground(me, True)
        try:
            return netwait.block()
        finally:
            kernel.set_foreground(me, False)

    assert asyncio.run(fg()) is False


def test_http_unit_serves_on_its_configured_port():
    # The frozen unit's config key `port` (default 0: ephemeral on the unix port); the
    # runtime update restarts the service on the new port (config_reload's default).
    from kernel import svc
    from services import units

    kernel.reset()
    unit = dict([u for u in units.UNITS if isinstance(u, dict) and u["name"] == "http"][0])
    unit.pop("wants"), unit.pop("after")
    port = _port()
    kernel.create_service(unit)
    kernel.update_config("http", {"port": port})
    kernel.start_service("http")
    sched = svc.manager().sched
    got = []

    async def get():
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /services HTTP/1.1\r\nConnection: close\r\n\r\n")
        await w.drain()
        got.append(await r.readline())
        w.close()

    async def client():
        await asyncio.sleep_ms(50)
        await asyncio.wait_for(get(), 10)

    sched.run_until(sched.spawn(client(), "client"))
    assert got == [b"HTTP/1.1 200 OK\r\n"], got
    assert "http: listening on port %d" % port in "\n".join(kernel.log_lines(40))
    kernel.stop_service("http")


def test_a_stream_over_a_ringio_not_a_socket():
    # MicroPython's tests/micropython/ringio_async.py: asyncio's Stream over any stream
    # object. 120 bytes through a 16-byte ring: the writer's drain waits for room, the
    # reader's readexactly for data, each re-checking on a timer (nothing wakes them).
    import micropython

    fresh()
    rb = micropython.RingIO(16)
    st = asyncio.StreamWriter(rb)
    data = b"ABC123" * 20

    async def writer():
        st.write(data)
        await st.drain()

    async def main():
        t = asyncio.create_task(writer())
        await asyncio.sleep_ms(10)
        got = await st.readexactly(len(data))
        await t
        return got

    assert asyncio.run(asyncio.wait_for(main(), 10)) == data


def test_a_stream_over_an_object_that_cannot_poll_writes_without_allocating():
    # MicroPython's extmod/asyncio_heaplock.py: a Stream over an object with write() only
    # (no ioctl, so select.poll refuses it) is made, and written to under heap_lock.
    import micropython

    class Sink:
        def __init__(self):
            self.n = 0
            self.last = None

        def write(self, buf):
            self.n += len(buf)  # a small int and a reference: nothing allocated
            self.last = buf
            return len(buf)

    fresh()
    sink = Sink()
    st = asyncio.StreamWriter(sink, None)
    buf = bytearray(b"56")
    micropython.heap_lock()
    try:
        st.write(b"34")
        st.write(buf)
    finally:
        micropython.heap_unlock()
    assert sink.n == 4 and sink.last is buf, (sink.n, sink.last)


def test_the_net_pump_follows_a_fresh_scheduler():
    # After kernel.reset() a socket wait must start a pump in the new scheduler: the old
    # one (and its flag) belong to a scheduler that no longer runs.
    port = _port()
    pumps = []
    for _ in range(2):
        fresh()

        async def accept_once():
            srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
            await asyncio.sleep_ms(params.NET_POLL_MS * 2)  # the accept loop waits once
            pumps.append(netwait._pump)
            srv.close()
            await srv.wait_closed()

        asyncio.run(asyncio.wait_for(accept_once(), 10))
        assert pumps[-1] is not None and pumps[-1].sched is kernel.scheduler(), pumps
    assert pumps[0] is not pumps[1]
