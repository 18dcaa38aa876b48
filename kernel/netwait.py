# kernel/netwait: tasks wait for the network stack's next event; its interrupt wakes them.
#
# Owns: the wake-up path from lwIP to tasks. _net (boards/common/modnet.c) calls on_event()
# from the scheduled lwIP poll (after frames came in, and while TCP has timers running); it
# only sets a ThreadSafeFlag, as interrupt-side code must. A pump task ("net-wake") waits on
# that flag and wakes every task parked in wait(), which then re-checks its socket
# (kernel/streams.py). Where there is no _net (the unix port's host sockets) the HAL's idle
# wait polls the socket a task waits on (hal.watch_fd, given by wait()'s `sock`) and
# schedules on_event() when it is ready, the same wake-up; a task busy CPUs delay that, so
# the task also re-checks every params.NET_POLL_MS.
# A blocking socket call (recv, accept, connect, send, getaddrinfo on a blocking or timeout
# socket) made in a kernel task's step parks that task instead: modlwip's blocking loop calls
# block() (through boards/common/net.c, with the task's watchdog paused), which steps the
# other tasks until the stack's next event or params.NET_BLOCK_SLICE_MS, and modlwip then
# checks its socket and the socket's own timeout again. A cancel reaches the blocked call
# as its exception. The console's foreground code blocks as on any MicroPython board. Nested
# blocked calls resume last-in first-out, at most params.NET_BLOCK_DEPTH_MAX deep (beyond
# that a call blocks as MicroPython's, under its watchdog).
# Not here: sockets themselves, streams, the interface (services/netd.py).
import kernel
from kernel import params
from kernel import sched as _sched
from kernel.errors import TimeoutError
from kernel.sync import ThreadSafeFlag, _wake_all
from kernel.task import ENDED, TaskQueue
from kernel.traps import park

try:
    import _net
except ImportError:
    _net = None
try:
    from hal import fd_handler as _fd_handler
    from hal import watch_fd as _watch_fd
except ImportError:  # a board (lwIP wakes tasks), or a build without the HAL
    _watch_fd = _fd_handler = None

_flag = None  # ThreadSafeFlag set by on_event()
_waiting = TaskQueue()  # tasks parked in wait()
_pump = None  # the net-wake task
events = 0  # events pumped since boot (tests, netstat)
blocked = 0  # slices in which a blocked socket call let the others run (tests)


class _Cond:
    # The end of one blocked call's wait: on_event() sets state (run_blocked reads it).
    state = 0


_conds = [_Cond() for _ in range(params.NET_BLOCK_DEPTH_MAX)]  # one per nesting depth
_depth = 0  # blocked calls in progress (nested)


def on_event():
    # From the scheduled lwIP poll (soft-interrupt context): store only.
    if _flag is not None:
        _flag.set()
    i = 0
    while i < _depth:
        _conds[i].state = ENDED
        i += 1


def block():
    """From modlwip's blocking loop (boards/common/net.c): True when it ran the other tasks
    until the stack's next event or a slice; False where the call must block as
    MicroPython's (no scheduler running, the console's foreground, too deep)."""
    global _depth, blocked
    s = _sched.running()
    t = s.cur if s is not None else None
    if t is None or t.fg or _depth >= params.NET_BLOCK_DEPTH_MAX:
        return False
    c = _conds[_depth]
    c.state = 0
    _depth += 1
    blocked += 1
    try:
        s.run_blocked(c, params.NET_BLOCK_SLICE_MS)
    finally:
        _depth -= 1
    e = t.pending
    if e is not None:  # cancelled while it waited: the call raises it, as an await would
        t.pending = None
        raise e
    return True


async def _run():
    global events
    while True:
        await _flag.wait()
        events += 1
        _wake_all(_waiting)


def start():
    """Install the handler and the pump now (netd, at boot); wait() also does it."""
    if _net is not None:
        _ensure_pump()


def _ensure_pump():
    # One pump per scheduler: after kernel.reset() (the unix port's tests) the old pump and
    # its flag belong to a scheduler that no longer runs.
    global _flag, _pump
    if _pump is not None and _pump.state < ENDED and _pump.sched is kernel.scheduler():
        return
    _flag = ThreadSafeFlag()
    _pump = kernel.spawn(_run(), "net-wake")
    if _net is not None:
        _net.set_handler(on_event)
        _net.set_block_handler(block)
    else:
        _fd_handler(_on_fd)


def _on_fd(_):
    on_event()  # scheduled by the unix HAL's idle wait: a watched socket is ready


async def wait(timeout_ms=-1, sock=None, write=False):
    """Park until the stack's next event or timeout_ms (-1: none); False on timeout. A task
    re-checks its socket after this returns, whatever it returned. `sock` (and `write`:
    waiting to send, not to receive) is what the unix port's idle wait watches for it."""
    if _net is None:
        ms = params.NET_POLL_MS if timeout_ms < 0 else min(timeout_ms, params.NET_POLL_MS)
        if sock is None or _watch_fd is None or not _watch_fd(sock.fileno(), write):
            await kernel.sleep_ms(ms)
            return True
        _ensure_pump()
        try:
            await park(_waiting, ms)
        except TimeoutError:
            pass  # the re-check (the caller keeps its own deadline, as above)
        return True
    _ensure_pump()
    try:
        await park(_waiting, timeout_ms)
    except TimeoutError:
        return False
    return True


def stop():
    """Forget the pump and the handler (soft reset, tests)."""
    global _pump
    if _net is not None:
        _net.set_handler(None)
        _net.set_block_handler(None)
    elif _fd_handler is not None:
        _fd_handler(None)
    if _pump is not None and _pump.state < ENDED:
        _pump.cancel()
    _pump = None
