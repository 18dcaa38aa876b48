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
# An arm lives until the end of the step that made it. The singletons are shared by every
# task, so a call that is never awaited (`kernel.sleep_ms(100000)` without `await`) would
# otherwise be yielded, with its argument, by the next task that resumes inside an await of
# the same trap (and that task would sleep 100 s). After each step the scheduler asks
# armed() (how many traps are armed: 0 unless the step left one) and, when the step left
# one, drops every arm at once with disarm() (a new generation: a trap is armed iff its
# generation is the current one) and tells the offender (kernel/lifecycle.py _stale).
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

    gen = 1  # the generation of live arms, for every PyTrap (py_disarm() moves it)
    n_armed = 0  # PyTraps armed in it

    def __init__(self, code, value=None):
        self.code = code  # index into the scheduler's dispatch tuple
        self.arg = None  # the trap's argument, read by the scheduler at once
        self.arg2 = -1  # second argument (PARK: timeout in ms)
        self._gen = 0  # == PyTrap.gen while armed (0 never is)
        self.stop = StopIteration(value)  # raised on resume; `value` is the await's result

    def __call__(self, arg=_KEEP, arg2=-1):  # no *args: a tuple per call would allocate
        if self._gen != PyTrap.gen:
            self._gen = PyTrap.gen
            PyTrap.n_armed += 1
        if arg is not _KEEP:
            self.arg = arg
            self.arg2 = arg2
        return self

    @property
    def armed(self):
        """True from a call until it is yielded (or the arm is dropped as stale)."""
        return self._gen == PyTrap.gen

    @armed.setter
    def armed(self, on):
        if on:
            self()
        elif self._gen == PyTrap.gen:
            self._gen = 0
            PyTrap.n_armed -= 1

    def __iter__(self):
        return self

    def __next__(self):
        if self._gen == PyTrap.gen:
            self._gen = 0
            PyTrap.n_armed -= 1
            return self  # to the scheduler
        stop = self.stop
        stop.__traceback__ = None  # reuse its traceback buffer: no allocation per raise
        raise stop


def py_armed():
    """How many PyTraps are armed now."""
    return PyTrap.n_armed


def py_disarm():
    """Drop every PyTrap's arm (a new generation); returns how many there were."""
    n = PyTrap.n_armed
    PyTrap.gen = (PyTrap.gen + 1) & 0x3FFFFFFF or 1
    PyTrap.n_armed = 0
    return n


try:
    from _ktrap import Trap, armed, disarm  # armed() -> int, disarm() -> int, as py_*
except ImportError:
    Trap = PyTrap
    armed = py_armed
    disarm = py_disarm

NATIVE = Trap is not PyTrap  # True when the C twin is in this build

_yield = Trap(YIELD)
_sleep = Trap(SLEEP)
_park = Trap(PARK)
_park_true = Trap(PARK, True)  # the same trap, but the await evaluates to True
_console = Trap(CONSOLE)
READY_TRUE = Trap(READY, True)  # never called, so an await of it completes at once: True
READY_NONE = Trap(READY, None)
HOT = (_yield, _sleep, _park, _park_true, _console)  # the callable singletons
CALL_NAMES = ("yield_()", "sleep_ms(%r)", "a wait (park)", "wait_console()")  # by code

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
