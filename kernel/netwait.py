# kernel/netwait: tasks wait for the network stack's next event; its interrupt wakes them.
#
# Owns: the wake-up path from lwIP to tasks. _net (boards/common/modnet.c) calls on_event()
# from the scheduled lwIP poll (after frames came in, and while TCP has timers running); it
# only sets a ThreadSafeFlag, as interrupt-side code must. A pump task ("net-wake") waits on
# that flag and wakes every task parked in wait(), which then re-checks its socket
# (kernel/streams.py). Where there is no _net (the unix port's host sockets) wait() sleeps
# params.NET_POLL_MS instead: the only polling, and only off the boards.
# Not here: sockets themselves, streams, the interface (services/netd.py).
import kernel
from kernel import params
from kernel.errors import TimeoutError
from kernel.sync import ThreadSafeFlag, _wake_all
from kernel.task import ENDED, TaskQueue
from kernel.traps import park

try:
    import _net
except ImportError:
    _net = None

_flag = None  # ThreadSafeFlag set by on_event()
_waiting = TaskQueue()  # tasks parked in wait()
_pump = None  # the net-wake task
events = 0  # events pumped since boot (tests, netstat)


def on_event():
    # From the scheduled lwIP poll (soft-interrupt context): store only.
    _flag.set()


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
    global _flag, _pump
    if _pump is not None and _pump.state < ENDED:
        return
    if _flag is None:
        _flag = ThreadSafeFlag()
    _pump = kernel.spawn(_run(), "net-wake")
    _net.set_handler(on_event)


async def wait(timeout_ms=-1):
    """Park until the stack's next event or timeout_ms (-1: none); False on timeout. A task
    re-checks its socket after this returns, whatever it returned."""
    if _net is None:
        ms = params.NET_POLL_MS if timeout_ms < 0 else min(timeout_ms, params.NET_POLL_MS)
        await kernel.sleep_ms(ms)
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
    if _pump is not None and _pump.state < ENDED:
        _pump.cancel()
    _pump = None
