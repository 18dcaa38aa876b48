# kernel/clock: the scheduler's clock, injected: the real one (the HAL) or a virtual one.
#
# Owns: the clock interface the scheduler uses, ticks_ms / ticks_us / ticks_add / ticks_diff /
# idle(timeout_ms), plus the optional hooks alloc_bytes() (heap bytes allocated, cumulative,
# mod TICKS_PERIOD), console_any(), resume(coro, value, budget_ms) and wdt_hits() that the C
# HAL provides (None when absent), and seed() -> int, where seeded randomness (backoff
# jitter) starts: the HAL's entropy, the virtual clock's own seed. HalClock imports `hal`
# only when built, so the kernel imports on a stock MicroPython without `_hal`; TimeClock is
# the fallback on such builds.
# VirtualClock is deterministic: time advances only by a seeded cost per ticks_us() read (one
# read per task switch) and by idle(), which skips straight to the next deadline.
# Invariants: ticks values wrap at params.TICKS_PERIOD on HalClock and VirtualClock; callers
# never subtract ticks, they use ticks_diff. Knows nothing of tasks.
from micropython import const

from kernel import params

_MASK = const((1 << 30) - 1)  # params.TICKS_PERIOD - 1
_HALF = const(1 << 29)  # params.TICKS_PERIOD // 2


def ticks_add(t, delta):
    """t + delta on the 2**30 ticks circle."""
    return (t + delta) & _MASK


def ticks_diff(a, b):
    """a - b on the 2**30 ticks circle, in -2**29 .. 2**29 - 1."""
    return ((a - b + _HALF) & _MASK) - _HALF


class HalClock:
    """The board's real clock and hooks, from the `hal` package (imported here, lazily)."""

    native = True  # ticks and the allocation counter are the C HAL's own (the C step reads them)

    def __init__(self):
        import hal

        self.ticks_ms = hal.ticks_ms
        self.ticks_us = hal.ticks_us
        self.ticks_add = hal.ticks_add
        self.ticks_diff = hal.ticks_diff
        self.idle = hal.idle  # idle(timeout_ms): WFI until an interrupt that matters or timeout
        self.console_any = hal.console_any
        self.ctrl_c_count = getattr(hal, "ctrl_c_count", None)  # Ctrl-C bytes received
        self.captured = getattr(hal, "captured", None)  # what quiet tasks printed
        self.alloc_bytes = getattr(hal, "alloc_bytes", None)
        self.resume = getattr(hal, "resume", None)
        self.wdt_hits = getattr(hal, "wdt_hits", None)
        self.step_gc_us = getattr(hal, "step_gc_us", None)  # a step's collections (not its own)
        self.seed = hal.random_u32  # xoshiro128** seeded from the board's entropy at boot


class TimeClock:
    """Fallback real clock from MicroPython's `time` (stock builds without `_hal`)."""

    alloc_bytes = None
    resume = None
    wdt_hits = None
    console_any = None  # no interrupt-driven console here: wait_console polls nothing

    def __init__(self):
        import time

        self.ticks_ms = time.ticks_ms
        self.ticks_us = time.ticks_us
        self.ticks_add = time.ticks_add
        self.ticks_diff = time.ticks_diff
        self._sleep_ms = time.sleep_ms

    def seed(self):
        """No entropy source here: the microsecond ticks at the call (weak, but not fixed)."""
        return self.ticks_us()

    def idle(self, timeout_ms):
        """Sleep timeout_ms; nothing can wake this clock early."""
        if timeout_ms > 0:
            self._sleep_ms(timeout_ms)
        return False


def real_clock():
    """The HAL clock when `_hal` exists, else MicroPython's `time`."""
    try:
        return HalClock()
    except ImportError:
        return TimeClock()


class VirtualClock:
    """Deterministic simulated time: same seed, same costs, same order of events."""

    resume = None
    wdt_hits = None
    simulated = True  # nothing outside can wake it: the scheduler reports deadlocks

    def __init__(self, seed=0, step_us=None, alloc_bytes=None):
        """step_us: (min, max) µs charged per ticks_us() read (one per task switch), or an
        int for a fixed cost; alloc_bytes: optional counter function (e.g. for tests)."""
        if step_us is None:
            step_us = (params.VCLOCK_STEP_US_MIN, params.VCLOCK_STEP_US_MAX)
        elif isinstance(step_us, int):
            step_us = (step_us, step_us)
        self.now_us = 0  # simulated µs since the clock was made (a plain int, tests only)
        self.idle_us = 0  # simulated µs skipped by idle()
        self.idles = 0  # idle() calls
        self.step_min = step_us[0]
        self.step_span = step_us[1] - step_us[0] + 1
        self.rng = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1  # xorshift32 state
        self._seed = seed
        self.console = bytearray()  # bytes "typed" on the simulated console
        self.ctrl_c = 0  # Ctrl-C bytes among them
        self.alloc_bytes = alloc_bytes
        self.ticks_add = ticks_add
        self.ticks_diff = ticks_diff

    def _cost_us(self):
        x = self.rng
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.rng = x
        return self.step_min + x % self.step_span

    def seed(self):
        """The clock's own seed: the same seed gives the same jitter, run after run."""
        return self._seed

    def ticks_us(self):
        """Advance by one step's simulated cost, then read (µs ticks)."""
        self.now_us += self._cost_us()
        return self.now_us & _MASK

    def ticks_ms(self):
        """Read simulated time in ms ticks (does not advance)."""
        return (self.now_us // 1000) & _MASK

    def burn(self, us):
        """Simulate code that runs for `us` without yielding (e.g. for watchdog tests)."""
        self.now_us += us

    def idle(self, timeout_ms):
        """Skip ahead to the deadline at once; return True at once if console input waits."""
        self.idles += 1
        if self.console:
            return True
        if timeout_ms > 0:
            self.now_us += timeout_ms * 1000
            self.idle_us += timeout_ms * 1000
        return False

    def type(self, data):
        """Simulate bytes arriving on the console."""
        self.console.extend(data)
        self.ctrl_c += data.count(b"\x03")

    def ctrl_c_count(self):
        """Ctrl-C bytes typed so far (as the HAL counts them)."""
        return self.ctrl_c

    def console_any(self):
        """Bytes waiting on the simulated console."""
        return len(self.console)

    def console_read(self, n):
        """Take up to n bytes typed on the simulated console."""
        b = bytes(self.console[:n])
        self.console = self.console[n:]
        return b
