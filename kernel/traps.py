# kernel/traps: the one door from a task into the kernel (curio's traps).
#
# Owns: the trap codes, the Trap awaitable and its preallocated singletons, and one short
# function per trap. A task awaits a trap (or, in a plain generator task, yields it); the
# awaitable hands itself to the scheduler, which reads `code` and `arg` at once (before any
# other task runs, so one singleton per trap is enough) and dispatches through a tuple
# indexed by the code. On resume the awaitable raises its preallocated StopIteration: no
# allocation per await, as MicroPython's asyncio does for sleep_ms.
# Not here: what a trap does (kernel/sched.py), waiting primitives (kernel/sync.py).
from micropython import const

# Trap codes: indexes into the scheduler's dispatch tuple (Scheduler._traps).
YIELD = const(0)  # back of the run queue
SLEEP = const(1)  # arg: ms to sleep
PARK = const(2)  # arg: a TaskQueue to wait on; arg2: timeout in ms, -1 for none
CONSOLE = const(3)  # wait until the console has input
TRAP_NAMES = ("yield", "sleep", "park", "console")


class Trap:
    """A reusable awaitable: yields itself to the scheduler once, then completes."""

    def __init__(self, code, value=None):
        self.code = code  # index into the scheduler's dispatch tuple
        self.arg = None  # the trap's argument, read by the scheduler at once
        self.arg2 = -1  # second argument (PARK: timeout in ms)
        self.armed = False  # True between __iter__ and the first __next__ of one await
        self.stop = StopIteration(value)  # raised on resume; `value` is the await's result

    def __iter__(self):
        self.armed = True
        return self

    def __next__(self):
        if self.armed:
            self.armed = False
            return self  # to the scheduler
        stop = self.stop
        stop.__traceback__ = None  # reuse its traceback buffer: no allocation per raise
        raise stop


class Ready:
    """An awaitable that completes at once with a fixed value (e.g. Event.wait when set)."""

    def __init__(self, value=None):
        self.stop = StopIteration(value)

    def __iter__(self):
        return self

    def __next__(self):
        stop = self.stop
        stop.__traceback__ = None
        raise stop


_yield = Trap(YIELD)
_sleep = Trap(SLEEP)
_park = Trap(PARK)
_park_true = Trap(PARK, True)  # the same trap, but the await evaluates to True
_console = Trap(CONSOLE)
READY_TRUE = Ready(True)
READY_NONE = Ready(None)


def yield_():
    """Let every other runnable task step once, then continue."""
    return _yield


def sleep_ms(ms):
    """Sleep at least `ms` milliseconds (0: same as yield_())."""
    _sleep.arg = ms
    return _sleep


def sleep_us(us):
    """Sleep at least `us` microseconds; deadlines are kept in ms, so this rounds up."""
    _sleep.arg = (us + 999) // 1000
    return _sleep


def sleep(s):
    """Sleep at least `s` seconds (int or float)."""
    _sleep.arg = int(s * 1000 + 0.999)
    return _sleep


def park(queue, timeout_ms=-1):
    """Wait on a TaskQueue until woken (sched.wake) or timeout_ms ran out (TimeoutError)."""
    _park.arg = queue
    _park.arg2 = timeout_ms
    return _park


def park_true(queue, timeout_ms=-1):
    """park(), but the await evaluates to True (asyncio's Event.wait, Lock.acquire)."""
    _park_true.arg = queue
    _park_true.arg2 = timeout_ms
    return _park_true


def wait_console():
    """Wait until the console has input (hal.console_any() > 0), without busy polling."""
    return _console
