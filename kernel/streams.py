# kernel/streams: asyncio's streams on the kernel: open_connection, start_server, Stream.
#
# Owns: Stream (MicroPython's one class for StreamReader and StreamWriter: read, readinto,
# readline, readexactly, write, drain, close, wait_closed, get_extra_info) and Server, over
# non-blocking sockets. A call that would block parks the task in kernel.netwait until the
# network stack's next event and tries again, so tasks never spin and the watchdog never
# sees a blocked step. kernel.asyncio exposes these names (`asyncio.open_connection`).
# Invariants: a Stream buffers at most one chunk it has read ahead (readline) and what was
# written but not yet drained; close() frees the socket at once.
# Not here: timeouts (asyncio.wait_for around the call), TLS (ssl= is refused).
import errno
import select

try:
    import socket
except ImportError:  # a build without a network stack
    socket = None

import kernel
from kernel import netwait, params, traps
from kernel.task import TaskQueue
from kernel.traps import park

_AGAIN = (errno.EAGAIN, errno.EINPROGRESS, errno.ETIMEDOUT)
owners = {}  # listening port -> name of the task that started the server (netstat)
_BAD = select.POLLERR | select.POLLHUP


def _again(e):
    return e.errno in _AGAIN


class Stream:
    """A connected socket, read and written by tasks (StreamReader and StreamWriter), or, as
    MicroPython's, any other stream object (micropython.RingIO, a UART): nothing wakes a
    task for those, so it polls the object and re-checks every params.NET_POLL_MS."""

    def __init__(self, s, extra=None):
        self.s = s
        self.e = extra if extra is not None else {}
        self._rb = b""  # read ahead (readline), not yet returned
        self._out = b""  # written, not yet sent (drain sends it)
        self._sock = hasattr(s, "recv")  # a socket: the stack's events wake its tasks
        self._poll = None  # any other stream object: its poller, made when first needed

    def _ready(self, ev):
        # Not a socket: whether the object polls ready for ev (or failed) now.
        if self._poll is None:
            self._poll = select.poll()
            self._poll.register(self.s, select.POLLIN | select.POLLOUT)
        for _, got in self._poll.poll(0):
            return got & (ev | _BAD)
        return 0

    async def _wait(self, write=False):
        if self._sock:
            await netwait.wait(-1, self.s, write)
        else:
            await kernel.sleep_ms(params.NET_POLL_MS)

    def get_extra_info(self, name):
        return self.e.get(name)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.wait_closed()

    async def _recv(self, n):
        # One chunk of at most n bytes; b"" at end of stream. Always yields once at least, as
        # MicroPython's read does: a read loop on a fast sender cannot hold the CPU (the stack
        # takes frames in between bytecodes, so data may never run out within one step).
        s = self.s
        waited = False
        while True:
            if s is None:
                raise OSError(errno.EBADF)
            try:
                if self._sock:
                    d = s.recv(n)
                else:  # b"" from a stream object is its end only when it polls readable
                    d = s.read(n) if self._ready(select.POLLIN) else None
                if d is not None:
                    if not waited:
                        await traps.yield_()
                    return d
            except OSError as e:
                if not _again(e):
                    raise
            await self._wait()
            waited = True
            s = self.s

    def _take(self, n):
        d = self._rb[:n]
        self._rb = self._rb[n:]
        return d

    async def read(self, n=-1):
        """Up to n bytes (one chunk), or everything until end of stream when n < 0."""
        if n == 0:
            return b""
        if n > 0:
            if self._rb:
                return self._take(n)
            return await self._recv(n)
        parts = [self._rb] if self._rb else []
        self._rb = b""
        while True:
            d = await self._recv(params.NET_STREAM_CHUNK)
            if not d:
                return b"".join(parts)
            parts.append(d)

    async def readinto(self, buf):
        """Read into buf (bytearray/memoryview); returns the count, 0 at end of stream."""
        d = await self.read(len(buf))
        buf[: len(d)] = d
        return len(d)

    async def readexactly(self, n):
        """Exactly n bytes; EOFError if the stream ends first."""
        parts = []
        while n > 0:
            d = await self.read(min(n, params.NET_STREAM_CHUNK))
            if not d:
                raise EOFError("readexactly: stream ended %d bytes short" % n)
            parts.append(d)
            n -= len(d)
        return b"".join(parts)

    async def readline(self, limit=-1):
        """One line with its b"\\n" (or what was left at end of stream); at most `limit`
        bytes when limit > 0 (then possibly without the newline)."""
        while True:
            i = self._rb.find(b"\n")
            if i >= 0:
                return self._take(i + 1 if limit < 0 else min(i + 1, limit))
            if 0 < limit <= len(self._rb):
                return self._take(limit)
            d = await self._recv(params.NET_STREAM_CHUNK)
            if not d:
                return self._take(len(self._rb))
            self._rb += d

    def discard(self):
        """Drop what was received and not read, without waiting (at most
        params.NET_DISCARD_MAX bytes): a close() after it ends the connection with a FIN,
        where unread input makes lwIP (as Linux) reset it and drop what it had not sent."""
        self._rb = b""
        s = self.s
        n = 0
        while s is not None and n < params.NET_DISCARD_MAX:
            try:
                d = s.recv(params.NET_STREAM_CHUNK)
            except OSError:
                return
            if not d:
                return
            n += len(d)

    def write(self, buf):
        """Send buf now as far as the stream takes it (its write() returns None when it would
        block); the rest waits for drain(). As MicroPython's: nothing is allocated when it
        all goes out, or when bytes wait behind nothing else."""
        if not self._out:
            if self.s is None:
                raise OSError(errno.EBADF)
            n = self.s.write(buf)
            if n == len(buf):
                return
            if n:
                buf = buf[n:]
        self._out += buf

    async def drain(self):
        """Send what was written, waiting while the stream's send buffer is full. Always
        yields once at least (a loop of write and drain cannot hold the CPU)."""
        data = self._out
        if not data:
            await traps.yield_()
            return
        mv = memoryview(data)
        off = 0
        while off < len(data):
            if self.s is None:
                raise OSError(errno.EBADF)
            try:
                n = self.s.write(mv[off:])
            except OSError as e:
                if not _again(e):
                    raise
                n = 0
            if n:
                off += n
            else:
                await self._wait(True)
        self._out = b""

    def close(self):
        """Close the socket now (written but undrained bytes are dropped)."""
        if self.s is not None:
            try:
                self.s.close()
            except OSError:
                pass
            self.s = None
        self._out = b""

    async def wait_closed(self):
        self.close()

    def is_closing(self):
        return self.s is None


StreamReader = Stream
StreamWriter = Stream


async def _wait_writable(s, timeout_ms):
    # A non-blocking connect: until the socket is writable (connected) or fails.
    p = select.poll()
    p.register(s, select.POLLOUT)
    dl = kernel.deadline(timeout_ms)
    while True:
        ev = p.poll(0)
        if ev:
            if ev[0][1] & _BAD:
                raise OSError(errno.ECONNREFUSED)
            return
        left = kernel.remaining_ms(dl)
        if left <= 0:
            raise OSError(errno.ETIMEDOUT)
        await netwait.wait(left, s, True)


async def open_connection(host, port, ssl=None):
    """Connect to host:port -> (reader, writer), one Stream twice (as MicroPython)."""
    if ssl:
        raise ValueError("open_connection: ssl is not supported")
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
    s.setblocking(False)
    try:
        try:
            s.connect(ai[-1])
        except OSError as e:
            if not _again(e):
                raise
        await _wait_writable(s, params.NET_CONNECT_TIMEOUT_MS)
    except BaseException:
        s.close()
        raise
    st = Stream(s, {"peername": ai[-1]})
    return st, st


class Server:
    """A listening socket and its accept task; each connection runs cb(reader, writer).
    With a limit, at most that many connections are served at once: the accept loop waits
    for one to end, and new ones wait in the listen backlog meanwhile."""

    def __init__(self, s, cb, limit=0):
        self.s = s
        self.cb = cb
        self.task = None
        self.conns = 0  # connections accepted since start
        self.active = 0  # connections being served now
        self.limit = limit
        self._room = TaskQueue()  # the accept loop, while `limit` connections are served
        self.port = 0

    def _ended(self):
        self.active -= 1
        t = self._room.head
        if t is not None:
            t.sched.wake(t)

    async def _serve(self):
        s = self.s
        while self.s is not None:
            if self.limit and self.active >= self.limit:
                await park(self._room)
                continue
            try:
                c, addr = s.accept()
            except OSError as e:
                if not _again(e) or self.s is None:
                    if self.s is None:
                        return
                    raise
                await netwait.wait(-1, s)
                continue
            c.setblocking(False)
            self.conns += 1
            self.active += 1
            st = Stream(c, {"peername": addr})
            kernel.spawn(_run_conn(self, st), "conn")

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None
            owners.pop(self.port, None)
        t = self.task
        if t is not None and t is not kernel.current():  # its own task: the loop sees s gone
            t.cancel()

    async def wait_closed(self):
        t = self.task
        if t is not None and t is not kernel.current():
            try:
                await t
            except BaseException:  # noqa: BLE001 - a cancelled accept loop is its normal end
                pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()
        await self.wait_closed()


async def _run_conn(srv, st):
    try:
        await srv.cb(st, st)
    finally:
        st.close()
        srv._ended()


async def start_server(cb, host, port, backlog=5, ssl=None, limit=0):
    """Listen on host:port; every connection gets its own task running cb(reader, writer).
    limit > 0: at most that many at once (the others wait in the backlog; the stack resets
    those beyond it)."""
    if ssl:
        raise ValueError("start_server: ssl is not supported")
    ai = socket.getaddrinfo(host, port)[0]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(ai[-1])
    s.listen(backlog)
    s.setblocking(False)
    srv = Server(s, cb, limit)
    srv.port = port
    me = kernel.current()
    owners[port] = me.name if me is not None else "-"
    srv.task = kernel.spawn(srv._serve(), "server:%d" % port)
    return srv
