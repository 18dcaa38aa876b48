# kernel/circuit: one circuit breaker: resilience4j's state machine without its machinery:
# one state code, one sliding window of outcomes and a few counters.
#
# Owns: the states (CLOSED, OPEN, HALF_OPEN; forced DISABLED and FORCED_OPEN) and Breaker:
# available() (could a call be permitted now; no side effects), allow() (take a permit:
# open -> half_open once the wait ran out; half_open admits exactly half_open_calls),
# record(ok, dur_ms), release(), by hand close() / force_open() / disable() / reset(),
# configure(cfg), counters().
# Windows: 'count' keeps the last window_size outcomes in a bytearray ring of flags; 'time'
# keeps window_size one-second buckets (fixed allocation, as resilience4j's
# SlidingTimeWindowMetrics), emptied as the clock passes them. Totals follow outcomes in
# and out: a record is O(1) (after an idle spell, at most window_size buckets to empty).
# Half-open counts from zero and decides after half_open_calls outcomes: closed (the window
# starts empty) or open again, the wait times wait_multiplier (up to wait_max_sec).
# Invariants: available(), allow() and record() allocate nothing unless the state changes;
# rates are per-mille ints, compared without division; time is the injected clock's ticks
# (ticks_diff, never subtraction). Each transition calls the one hook on_change(breaker,
# old_state, why); kernel/breakers.py makes it a discovery event and a journal line.
# Not here: the options (kernel/breakcfg.py), who has which breaker (kernel/breakers.py),
# picking instances (the balancer).
from micropython import const

from kernel.breakcfg import COUNT

CLOSED = const(0)
OPEN = const(1)
HALF_OPEN = const(2)
DISABLED = const(3)  # forced: every call permitted, nothing counted
FORCED_OPEN = const(4)  # forced: no call permitted until close() or reset()
STATE_NAMES = ("closed", "open", "half_open", "disabled", "forced_open")

_FAILED = const(1)  # outcome flags in the count window's ring
_SLOW = const(2)
_MASK = const((1 << 30) - 1)  # params.COUNTER_MASK


def state_name(code):
    """'open' for OPEN."""
    return STATE_NAMES[code] if 0 <= code < len(STATE_NAMES) else "state %d" % code


def _rate_pm(part, whole):
    return part * 1000 // whole if whole > 0 else -1


def _pm_text(pm):
    return "%d.%d%%" % (pm // 10, pm % 10)


class Breaker:
    """One breaker. `state` is a state code; calls / failures / slow_calls are the window's
    totals (in half_open: since it began); the total_* counters and not_permitted count
    since the last reset()."""

    on_change = None  # fn(breaker, old_state, why), told of every transition
    owner = None  # what it guards (kernel/breakers.py: an Instance, None for a service)
    state = CLOSED
    until = 0  # open: ticks_ms when the wait runs out
    permits = 0  # half_open: calls it may still admit
    ring = None  # count window: one outcome flag byte per call
    pos = 0  # count window: next slot; time window: bucket of the current second
    filled = 0  # count window: slots holding an outcome
    t0 = 0  # time window: ticks_ms when the current second's bucket began
    calls = 0
    failures = 0
    slow_calls = 0
    total_calls = 0
    total_failures = 0
    not_permitted = 0  # allow() answered False
    opened = 0  # times it went open (not forced)
    since = 0  # ticks_ms of the last transition (or of configure())

    def __init__(self, cfg, sched, name=""):
        """sched: anything with a `.clock` (the Scheduler; the clock may be bound later)."""
        self.sched = sched
        self.name = name
        # Every attribute the call path writes is made here: one added later would grow the
        # instance's map (an allocation) on some call.
        self.on_change = self.owner = None
        self.state = CLOSED
        self.until = self.permits = self.since = 0
        self.total_calls = self.total_failures = self.not_permitted = self.opened = 0
        self.configure(cfg)

    def configure(self, cfg):
        """New options: the window starts empty, closed (a forced state is kept); no event."""
        self.cfg = cfg
        self.slow_ms = cfg.slow_ms  # cfg's thresholds, copied: one attribute less per call
        self.fail_pm = cfg.fail_pm
        self.slow_pm = cfg.slow_pm
        self.size = n = cfg.size
        if cfg.window == COUNT:
            self.ring = bytearray(n)
            self.b_calls = self.b_failures = self.b_slow = None
            self.min_calls = min(cfg.min_calls, n)  # resilience4j caps it at the window
        else:
            self.ring = None
            self.b_calls = [0] * n
            self.b_failures = [0] * n
            self.b_slow = [0] * n
            self.min_calls = cfg.min_calls
        self.wait_ms = cfg.wait_ms
        if self.state < DISABLED:
            self.state = CLOSED
        self._clear()
        self.since = self.t0

    def _clear(self):
        self.calls = self.failures = self.slow_calls = 0
        self.pos = self.filled = 0
        self.t0 = self._now()
        b = self.b_calls
        if b is not None:
            for i in range(len(b)):  # the compiler's counted loop: no range object
                b[i] = self.b_failures[i] = self.b_slow[i] = 0

    def _now(self):
        c = self.sched.clock
        return c.ticks_ms() if c is not None else 0

    def state_name(self):
        return STATE_NAMES[self.state]

    # ---- the call path ----

    def available(self):
        """Could a call be permitted now? (No side effects: the balancer's filter.)"""
        st = self.state
        if st == CLOSED or st == DISABLED:
            return True
        if st == HALF_OPEN:
            return self.permits > 0
        if st == OPEN:
            c = self.sched.clock
            return c.ticks_diff(c.ticks_ms(), self.until) >= 0
        return False

    def allow(self):
        """Take permission for one call -> bool; record() its outcome after."""
        st = self.state
        if st == CLOSED or st == DISABLED:
            return True
        if st == OPEN:
            c = self.sched.clock
            if c.ticks_diff(c.ticks_ms(), self.until) < 0:
                self.not_permitted = (self.not_permitted + 1) & _MASK
                return False
            self._half_open()
            st = self.state
        if st == HALF_OPEN and self.permits > 0:
            self.permits -= 1
            return True
        self.not_permitted = (self.not_permitted + 1) & _MASK
        return False

    def release(self):
        """Give back a permit whose call did not happen (the balancer: no instance was left,
        or the caller cancelled); nothing is recorded."""
        if self.state == HALF_OPEN and self.permits < self.cfg.half_open:
            self.permits += 1

    def record(self, ok, dur_ms):
        """The outcome of a permitted call (ok: bool) and its duration in ms."""
        self.total_calls = (self.total_calls + 1) & _MASK
        f = 0
        if not ok:
            f = _FAILED
            self.total_failures = (self.total_failures + 1) & _MASK
        if dur_ms >= self.slow_ms:
            f |= _SLOW
        st = self.state
        if st == CLOSED:
            r = self.ring
            if r is None:
                self._time(f)
            else:  # the count window, inline: this is the hot path
                i = self.pos
                n = self.size
                self.pos = 0 if i + 1 == n else i + 1
                if self.filled == n:  # full: the oldest outcome leaves
                    old = r[i]
                    if old == f:
                        # The usual call: no count moves. A full window was checked when
                        # its counts last moved, so the rates are still under the bars.
                        return
                else:
                    old = 0
                    self.filled += 1
                    self.calls += 1
                r[i] = f
                d = (f & _FAILED) - (old & _FAILED)
                if d:
                    self.failures += d
                d = (f >> 1) - (old >> 1)  # _SLOW
                if d:
                    self.slow_calls += d
            n = self.calls
            if n >= self.min_calls and (
                self.failures * 1000 >= self.fail_pm * n
                or self.slow_calls * 1000 >= self.slow_pm * n
            ):
                self._open(self._why())
        elif st == HALF_OPEN:
            self._add(f)
            n = self.calls
            if n >= self.cfg.half_open:
                if (
                    self.failures * 1000 >= self.fail_pm * n
                    or self.slow_calls * 1000 >= self.slow_pm * n
                ):
                    self._open(self._why())
                else:
                    self._close("trial passed: %s" % self._rates())
        # open, disabled, forced_open: late or uncounted outcomes leave the window alone

    def _add(self, f):
        self.calls += 1
        if f & _FAILED:
            self.failures += 1
        if f & _SLOW:
            self.slow_calls += 1

    def _time(self, f):
        c = self.sched.clock
        if not 0 <= c.ticks_diff(c.ticks_ms(), self.t0) < 1000:  # a new second
            self._roll(c)
        i = self.pos
        self.b_calls[i] += 1
        self.calls += 1
        if f:  # the usual call: ok and fast
            if f & _FAILED:
                self.b_failures[i] += 1
                self.failures += 1
            if f & _SLOW:
                self.b_slow[i] += 1
                self.slow_calls += 1

    def _roll(self, c):
        # Move to the bucket of now, emptying the ones passed (all when idle >= the window).
        now = c.ticks_ms()
        d = c.ticks_diff(now, self.t0)
        if 0 <= d < 1000:
            return
        n = len(self.b_calls)
        k = d // 1000
        if d < 0 or k >= n:
            self._clear()
            self.t0 = now
            return
        self.t0 = c.ticks_add(self.t0, k * 1000)
        i = self.pos
        for _ in range(k):
            i += 1
            if i == n:
                i = 0
            self.calls -= self.b_calls[i]
            self.failures -= self.b_failures[i]
            self.slow_calls -= self.b_slow[i]
            self.b_calls[i] = self.b_failures[i] = self.b_slow[i] = 0
        self.pos = i

    def _why(self):
        """Which rate opens it, as text (the thresholds were just found crossed)."""
        n = self.calls
        if self.failures * 1000 >= self.fail_pm * n:
            return "failure rate %s >= %s over %d calls" % (
                _pm_text(_rate_pm(self.failures, n)),
                _pm_text(self.fail_pm),
                n,
            )
        return "slow call rate %s >= %s over %d calls (>= %d ms)" % (
            _pm_text(_rate_pm(self.slow_calls, n)),
            _pm_text(self.slow_pm),
            n,
            self.slow_ms,
        )

    def _rates(self):
        return "%d calls, failure rate %s, slow call rate %s" % (
            self.calls,
            _pm_text(_rate_pm(self.failures, self.calls)),
            _pm_text(_rate_pm(self.slow_calls, self.calls)),
        )

    # ---- transitions ----

    def _to(self, st, why):
        old = self.state
        self.state = st
        self.since = self._now()
        fn = self.on_change
        if fn is not None:
            fn(self, old, why)

    def _open(self, why):
        cfg = self.cfg
        if self.state == HALF_OPEN:  # a failed trial: the wait grows
            self.wait_ms = min(cfg.wait_max_ms, int(self.wait_ms * cfg.multiplier))
        else:
            self.wait_ms = cfg.wait_ms
        c = self.sched.clock
        self.until = c.ticks_add(c.ticks_ms(), self.wait_ms)
        self.opened = (self.opened + 1) & _MASK
        self._to(OPEN, "%s; wait %d ms" % (why, self.wait_ms))

    def _half_open(self):
        self.calls = self.failures = self.slow_calls = 0
        self.permits = self.cfg.half_open
        self._to(HALF_OPEN, "wait of %d ms over: %d trial calls" % (self.wait_ms, self.permits))

    def _close(self, why):
        self._clear()
        self.permits = 0
        self._to(CLOSED, why)

    # ---- by hand (the shell, faults) ----

    def close(self):
        """To closed, the window empty (resilience4j's transitionToClosedState)."""
        if self.state != CLOSED:
            self._close("closed by hand")

    def force_open(self):
        """No call permitted until close() or reset()."""
        if self.state != FORCED_OPEN:
            self._to(FORCED_OPEN, "forced open by hand")

    def disable(self):
        """Every call permitted, nothing counted, until close() or reset()."""
        if self.state != DISABLED:
            self._to(DISABLED, "disabled by hand")

    def reset(self):
        """Closed, window and counters cleared, the wait back to wait_open_sec (an event even
        when it was closed)."""
        self.wait_ms = self.cfg.wait_ms
        self.total_calls = self.total_failures = self.not_permitted = self.opened = 0
        self._clear()
        self.permits = 0
        self._to(CLOSED, "reset")

    def counters(self):
        """The window's counts and rates (per mille, -1 below minimum_calls) and the totals."""
        st = self.state
        c = self.sched.clock
        if st == CLOSED and self.ring is None and c is not None:
            self._roll(c)
        n = self.calls
        low = n < (self.cfg.half_open if st == HALF_OPEN else self.min_calls)
        left = 0
        now = c.ticks_ms() if c is not None else 0
        if st == OPEN:
            left = max(0, c.ticks_diff(self.until, now))
        return {
            "state": STATE_NAMES[st],
            "calls": n,
            "failures": self.failures,
            "slow_calls": self.slow_calls,
            "failure_rate_pm": -1 if low else _rate_pm(self.failures, n),
            "slow_call_rate_pm": -1 if low else _rate_pm(self.slow_calls, n),
            "permits": self.permits if st == HALF_OPEN else 0,
            "wait_ms": self.wait_ms,
            "open_left_ms": left,
            "state_ms": c.ticks_diff(now, self.since) if c is not None else 0,
            "total_calls": self.total_calls,
            "total_failures": self.total_failures,
            "not_permitted": self.not_permitted,
            "opened": self.opened,
        }
