# kernel/traps: the one door from a task into the kernel (curio's traps).
#
# Owns: the trap codes, the Trap awaitable and its preallocated singletons, and one short
# name per trap. A task awaits a trap (a plain generator task may also yield one); the trap
# hands itself to the scheduler, which reads `code`, `arg` and `arg2` at once (before any
# other task runs, so one singleton per trap is enough) and dispatches through a tuple
# indexed by the code. On resume the trap completes with its preset value. No allocation
# per await, as MicroPython's asyncio does for sleep_ms.
# Calling a trap arms it and sets its arguments: `await sleep_ms(5)` is a call of the sleep
# trap itself, so the hot traps (yield_, sleep_ms) cost no Python frame when the trap is the
# C twin `_ktrap.Trap` (boards/common/modktrap.c; same API, about 4x faster per await than
# this module's Python Trap, which is used when the build lacks it).
# Not here: what a trap does (kernel/sched.py), waiting primitives (kernel/sync.py).
from micropython import const

# Trap codes: indexes into the scheduler's dispatch tuple (Scheduler._traps).
YIELD = const(0)  # back of the run queue
SLEEP = const(1)  # arg: ms to sleep
PARK = const(2)  # arg: a TaskQueue to wait on; arg2: timeout in ms, -1 for none
CONSOLE = const(3)  # wait until the console has input
READY = const(-1)  # never dispatched: completes at once (Event.wait when set)
TRAP_NAMES = ("yield", "sleep", "park", "console")


_KEEP = object()  # "no argument given": keep the trap's arguments


class PyTrap:
    """A reusable awaitable: trap(arg, arg2=-1) arms it; awaited, it yields itself to the
    scheduler once, then completes with `value`. Never armed, it completes at once."""

    def __init__(self, code, value=None):
        self.code = code  # index into the scheduler's dispatch tuple
        self.arg = None  # the trap's argument, read by the scheduler at once
        self.arg2 = -1  # second argument (PARK: timeout in ms)
        self.armed = False  # set by a call, cleared when it yields itself
        self.stop = StopIteration(value)  # raised on resume; `value` is the await's result

    def __call__(self, arg=_KEEP, arg2=-1):  # no *args: a tuple per call would allocate
        self.armed = True
        if arg is not _KEEP:
            self.arg = arg
            self.arg2 = arg2
        return self

    def __iter__(self):
        return self

    def __next__(self):
        if self.armed:
            self.armed = False
            return self  # to the scheduler
        stop = self.stop
        stop.__traceback__ = None  # reuse its traceback buffer: no allocation per raise
        raise stop


try:
    from _ktrap import Trap
except ImportError:
    Trap = PyTrap

NATIVE = Trap is not PyTrap  # True when the C twin is in this build

_yield = Trap(YIELD)
_sleep = Trap(SLEEP)
_park = Trap(PARK)
_park_true = Trap(PARK, True)  # the same trap, but the await evaluates to True
_console = Trap(CONSOLE)
READY_TRUE = Trap(READY, True)  # never called, so an await of it completes at once: True
READY_NONE = Trap(READY, None)

# The hot traps are the singletons themselves (a call arms them and returns them):
yield_ = _yield  # yield_(): let every other runnable task step once, then continue
sleep_ms = _sleep  # sleep_ms(ms): sleep at least ms milliseconds (0: as yield_())


def sleep_us(us):
    """Sleep at least `us` microseconds; deadlines are kept in ms, so this rounds up."""
    return _sleep((us + 999) // 1000)


def sleep(s):
    """Sleep at least `s` seconds (int or float)."""
    return _sleep(int(s * 1000 + 0.999))


def park(queue, timeout_ms=-1):
    """Wait on a TaskQueue until woken (sched.wake) or timeout_ms ran out (TimeoutError)."""
    return _park(queue, timeout_ms)


def park_true(queue, timeout_ms=-1):
    """park(), but the await evaluates to True (asyncio's Event.wait, Lock.acquire)."""
    return _park_true(queue, timeout_ms)


def wait_console():
    """Wait until the console has input (hal.console_any() > 0), without busy polling."""
    return _console()
