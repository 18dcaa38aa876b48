# kernel/sched: the scheduler core: the run loop, idle, and accounting.
#
# Owns: stepping tasks (one send/throw per step, under the C watchdog when the HAL has
# `resume`), per-task accounting (steps, cpu_us, alloc_b, last_run: one clock read per switch,
# the end of one step being the start of the next), idle and its accounting, nested runs
# (asyncio.run from the foreground; run_blocked for a kernel task blocked in a C call).
# On the HAL's own clock a step and its accounting are one C call (_ksched.step,
# boards/common/modksched.c); elsewhere (virtual clock, stock builds) the same in Python.
# The clock is injected (kernel/clock.py). The class stack: Scheduler < Lifecycle (making,
# cancelling, ending tasks: kernel/lifecycle.py) < Waits (queues, trap handlers, waking:
# kernel/waits.py).
# Invariants: the hot path (_run_ready) allocates nothing per switch; a task is READY iff on
# the run queue or stepping (then it is `cur`); a nested run() (asyncio.run from the
# foreground) never steps its caller, which is stepping and so on no queue.
# Not here: services, supervision, the asyncio API (kernel/asyncio.py), sync primitives.
import sys

import micropython
from micropython import const

from kernel import params, traps
from kernel.clock import real_clock
from kernel.errors import KernelPanic
from kernel.lifecycle import ENDED_STEP, Lifecycle
from kernel.log import Log
from kernel.names import Ids
from kernel.sleepq import SleepQueue
from kernel.task import DONE, ENDED, TaskQueue

_MASK = const((1 << 30) - 1)  # params.TICKS_PERIOD - 1: ticks and counters wrap here
_CPU_CARRY = const(1 << 28)  # params.CPU_CARRY_US
_ALLOC_CARRY = const(1 << 28)  # params.ALLOC_CARRY_B
_running = None  # the Scheduler inside run(), if any

try:
    from _ksched import charge as _c_charge
    from _ksched import step as _c_step
except ImportError:
    _c_step = _c_charge = None

# The C step's contract: boards/common/modksched.c reads and writes these attributes by name
# in the instances' own tables (so each is set in __init__, never only a class default) and
# calls these methods. A rename on either side fails tests/unit/test_ksched.py.
KSCHED_SCHED_FIELDS = ("_head", "_tail", "cur", "_t0", "_a0", "_epoch", "_ytrap")
KSCHED_SCHED_METHODS = ("_carry", "_overrun", "_stale")
KSCHED_TASK_FIELDS = (
    "next",
    "pending",
    "coro",
    "wd_ms",
    "wd_us",
    "quiet",
    "cpu_us",
    "alloc_b",
    "steps",
    "last_run",
)


def running():
    """The scheduler whose run() is active, or None."""
    return _running


class Scheduler(Lifecycle):
    """Cooperative scheduler of Tasks on an injected clock."""

    def __init__(self, clock=None):
        self.clock = None
        self.cur = None  # the task stepping now
        self.on_failure = None  # hook(task), told once of each failed task (the supervisor)
        self.end_hooks = []  # fn(task) -> True if it takes the end (a service manager's runs)
        self.log = Log(self.uptime_ms)
        self._head = None  # run queue (FIFO through Task.next)
        self._tail = None
        self._console_q = TaskQueue()  # tasks in wait_console()
        self._flags = []  # ThreadSafeFlags that have had waiters (kernel/sync.py)
        self.flag_posted = False  # set by ThreadSafeFlag.set(): scan _flags at the next round
        self._tasks = Ids()  # id -> alive Task (chunked: no big table, kernel/names.py)
        self._ended = []  # the last params.TASKS_ENDED_KEPT ended tasks, oldest first
        self._next_id = 1
        self._stop = False
        self._depth = 0  # nesting of run()
        self._epoch = 0  # bumped per round: a step that ran a nested loop sees it changed
        self._t0 = 0  # ticks_us at the end of the last step (start of the next)
        self._a0 = 0  # alloc_bytes() at the same moment
        self._step = None  # _ksched.step when the clock is the HAL's own (set_clock)
        self._ytrap = traps._yield  # what the C step puts back in the run queue inline
        self._up_ms = 0  # uptime, accumulated from ticks_ms differences
        self._up_last = 0
        self._ticks_ms = None  # the clock's, bound by set_clock (read with the two above
        self._diff = None  # by _ksvc's uptime_ms, whether bound or not)
        self.idle_us = 0  # µs spent idle, carried into idle_s
        self.idle_s = 0
        self._reserve = bytearray(params.MEMORY_RESERVE_B)  # freed on MemoryError
        self._traps = (self._t_yield, self._t_sleep, self._t_park, self._t_console)
        self._nested_ctrl_c = None  # clock.ctrl_c_count while run_nested() runs
        self._captured = None  # clock.captured: what quiet tasks printed
        self._ctrl_c0 = 0  # its value when the nested loop began
        if clock is not None:
            self.set_clock(clock)

    def set_clock(self, clock):
        """Bind the clock (and its optional hooks); done once, before run()."""
        if self.clock is not None and self._sleepq.heap is not None:
            raise KernelPanic("sched: set_clock with tasks sleeping on the old clock")
        self.clock = clock
        # Bound once: reading a method off a Python clock object allocates a bound method.
        self._ticks_us = clock.ticks_us
        self._ticks_ms = clock.ticks_ms
        self._diff = clock.ticks_diff
        self._add = clock.ticks_add
        self._sleepq = SleepQueue(clock.ticks_diff)
        self._alloc = getattr(clock, "alloc_bytes", None)
        self._resume = getattr(clock, "resume", None)
        self._wdt_hits = getattr(clock, "wdt_hits", None)
        self._step_gc_us = getattr(clock, "step_gc_us", None)
        self._console_any = getattr(clock, "console_any", None)
        self._captured = getattr(clock, "captured", None)
        self._simulated = getattr(clock, "simulated", False)
        # The C step reads the HAL's clock and counter itself: only with the HAL's own clock.
        native = getattr(clock, "native", False)
        native = native and self._alloc is not None and self._resume is not None
        self._step = _c_step if native else None
        self._up_last = clock.ticks_ms()
        self._t0 = clock.ticks_us()
        self._a0 = self._alloc() if self._alloc is not None else 0

    # ---- the run loop ----

    def _run_ready(self, until=None, rounds=-1, at_once=False):
        # Step round after round while tasks are ready: each round steps every task that was
        # ready when it began, once; between rounds, due sleepers and console readers wake.
        # Returns when nothing is ready (run() then idles), on stop(), when `until` ended (at
        # the end of that round; at_once: right after its last step, as asyncio's
        # run_until_complete), or after `rounds` rounds (tests). The hot path: no allocation
        # per switch, and one call (one frame, which the VM may take from the heap) per busy
        # period, not per round.
        # With the C step (`step`) the accounting baseline lives in self._t0/_a0, which the C
        # step reads and moves; the Python path keeps it in the locals t0/a0.
        ticks_us = self._ticks_us
        ticks_ms = self._ticks_ms
        diff = self._diff
        alloc = self._alloc
        resume = self._resume
        step = self._step
        charge = _c_charge
        dispatch = self._traps
        ytrap = traps._yield
        armed = traps.armed  # traps armed now: 0 after a step unless it left one (_stale)
        ended = ENDED_STEP
        brk = until if at_once else None  # the task whose end ends the loop mid-round
        sq = self._sleepq
        cq = self._console_q
        t0 = self._t0
        # Re-read: time and allocation between busy periods are the kernel's, not a task's.
        a0 = alloc() if alloc is not None else 0
        self._a0 = a0
        epoch = self._epoch
        ctrl_c = self._nested_ctrl_c  # set only inside run_nested()
        if armed():  # armed outside any step (code at the console, between runs): nobody's
            traps.disarm()
        while rounds != 0 and not self._stop and (until is None or until.state < ENDED):
            rounds -= 1
            if ctrl_c is not None and ctrl_c() != self._ctrl_c0:
                # Ctrl-C during asyncio.run at the console: raised here, between rounds,
                # where every task is on a queue, and so in the foreground's frame.
                if step is None:
                    self._t0 = t0
                    self._a0 = a0
                raise KeyboardInterrupt
            ms = ticks_ms()
            self._up_ms += diff(ms, self._up_last)
            self._up_last = ms
            woke = False
            if sq.heap is not None and diff(sq.heap.ph_key, ms) <= 0:
                self._wake_due(ms)
                woke = True
            if cq.head is not None and self._console_any() > 0:
                self._wake_console()
                woke = True
            if self.flag_posted:
                self._wake_flags()
                woke = True
            if woke:  # the wake-ups are the kernel's work, not the next step's (a collection
                # in them beside 8,100 sleepers was charged to that step and dropped it)
                t0 = self._t0 = ticks_us()
                if alloc is not None:
                    a0 = self._a0 = alloc()
            last = self._tail
            if last is None:
                break
            if self._epoch != epoch:  # kernel work since the last step (_resync): reload
                t0 = self._t0
                a0 = self._a0
            self._epoch = epoch = (self._epoch + 1) & _MASK
            if step is not None:
                while True:
                    # C: step the head as cur (its pending exception thrown in, under the
                    # watchdog), charge it as below (_carry and _overrun included), put it back
                    # in the run queue when it yielded the yield trap, and on with the next
                    # up to `last`; r is the first other yield (None: none). A step that ends
                    # the task raises here and is charged after the task's end, as below.
                    try:
                        r = step(self, ms, last)
                    except StopIteration as e:
                        t = self.cur
                        r = self._end(t, DONE, "exit", e.value, None)
                        charge(self, t, ms)
                    except BaseException as e:  # noqa: BLE001 - a task's failure is data
                        t = self.cur
                        r = self._fail(t, e)
                        charge(self, t, ms)
                    t = self.cur
                    if r is ended:
                        if armed():  # (the C step checks the other steps itself)
                            self._stale(t, r)
                        if brk is not None and brk.state >= ENDED:
                            break  # at once, as asyncio's run_until_complete: the rest wait
                    if self._epoch != epoch:  # a nested loop or _resync ran: end the round
                        epoch = self._epoch
                        last = t
                    if r is not None and r is not ended:
                        if type(r) is traps.Trap and r.code >= 0:
                            dispatch[r.code](t, r)
                        else:
                            self._bad_yield(t, r)
                    if t is last:
                        break
                continue
            while True:  # the same in Python (virtual clock, stock builds)
                t = self._head
                nx = t.next
                self._head = nx
                if nx is None:
                    self._tail = None
                self.cur = t  # t stays READY while it steps: RUNNING is "is cur" (Task.state_name)
                try:
                    if t.pending is not None:
                        r = self._throw(t)
                    elif resume is None:
                        r = t.coro.send(None)
                    else:
                        r = resume(t.coro, None, t.wd_ms, t.quiet)
                except StopIteration as e:
                    r = self._end(t, DONE, "exit", e.value, None)
                except BaseException as e:  # noqa: BLE001 - a task's failure is data, kept on it
                    r = self._fail(t, e)
                now = ticks_us()
                if self._epoch != epoch:  # a nested loop or _resync ran: reload, end the round
                    t0 = self._t0
                    a0 = self._a0
                    epoch = self._epoch
                    last = t
                d = (now - t0) & _MASK  # ticks_diff for a forward step, without a call
                t0 = now
                c = t.cpu_us + d
                t.cpu_us = c
                t.steps += 1  # wrapped by _carry, long before it leaves small-int range
                t.last_run = ms
                if alloc is not None:
                    a = alloc()
                    b = t.alloc_b + ((a - a0) & _MASK)
                    t.alloc_b = b
                    a0 = a
                    if b >= _ALLOC_CARRY:
                        self._carry(t)
                if c >= _CPU_CARRY:
                    self._carry(t)
                if d >= t.wd_us:
                    r = self._overrun(t, d, r)
                if armed():
                    r = self._stale(t, r)
                if r is ytrap or r is None:
                    t.next = None  # back of the run queue, inline (the hottest trap)
                    if self._tail is None:
                        self._head = t
                    else:
                        self._tail.next = t
                    self._tail = t
                elif r is not ended:
                    if type(r) is traps.Trap and r.code >= 0:
                        dispatch[r.code](t, r)
                    else:
                        self._bad_yield(t, r)
                elif brk is not None and brk.state >= ENDED:
                    break
                if t is last:
                    break
        if step is None:
            self._t0 = t0
            self._a0 = a0
        self.cur = None

    def _resync(self):
        # Kernel work inside a round that may take long (closing a dropped task, the failure
        # hook): restart the accounting baseline so the next task is not charged for it. The
        # epoch bump makes _run_ready reload its locals (and end the round) after this step.
        self._t0 = self._ticks_us()
        self._a0 = self._alloc() if self._alloc is not None else 0
        self._epoch = (self._epoch + 1) & _MASK

    def _idle(self, ms, cap_ms=-1):
        sq = self._sleepq
        timeout = params.IDLE_MAX_MS if cap_ms < 0 else min(cap_ms, params.IDLE_MAX_MS)
        if sq.heap is not None:
            timeout = max(0, min(timeout, self._diff(sq.heap.ph_key, ms)))
        elif self.flag_posted:
            timeout = 0
        elif cap_ms < 0 and self._simulated and not (self._console_q.head and self._console_any()):
            raise KernelPanic("sched: deadlock: nothing runnable and no deadline (virtual clock)")
        self.pull_output()
        clock = self.clock
        before = self._ticks_us()
        clock.idle(timeout)
        after = self._ticks_us()
        self.idle_us += self._diff(after, before)
        if self.idle_us >= _CPU_CARRY:
            self.idle_s += self.idle_us // 1000000
            self.idle_us %= 1000000
        self._t0 = after
        if self._alloc is not None:
            self._a0 = self._alloc()

    def run(self, until=None, at_once=False):
        """Run tasks until stop() (or until task `until` has ended: at the end of that round,
        or with at_once right after its last step); then return."""
        global _running
        if self.cur is not None and not self.cur.fg:
            raise RuntimeError(
                "sched: run() from inside task %s: only the foreground may nest a loop"
                % self.cur.name
            )
        if self.clock is None:
            self.set_clock(real_clock())
        prev = _running
        _running = self
        if self._depth == 0:
            self._stop = False
        self._depth += 1
        self._t0 = self._ticks_us()
        self._a0 = self._alloc() if self._alloc is not None else 0
        try:
            while not self._stop and (until is None or until.state < ENDED):
                try:
                    self._run_ready(until, -1, at_once)
                except MemoryError as e:
                    self._out_of_memory(e)
                    continue
                if (
                    self._head is None
                    and not self._stop
                    and (until is None or until.state < ENDED)
                ):
                    if self.flag_posted:
                        self._wake_flags()
                    else:
                        self._idle(self._ticks_ms())
        finally:
            self._depth -= 1
            _running = prev
        self._epoch = (self._epoch + 1) & _MASK  # tell an outer round we ran

    def _out_of_memory(self, e):
        # The heap ran out between two steps (a trap or a wakeup that allocates; a step's own
        # MemoryError fails its task in _run_ready), e.g. after console code filled it: the
        # task being handled gets the MemoryError at its await point, as if the await had
        # raised it, with the reserve freed to handle it. The kernel goes on.
        t = self.cur
        self.cur = None
        self._reserve = None
        if t is not None and t.state < ENDED and t.coro is not None:
            self._unlink(t)  # off any queue the failed trap may have put it on
            t.pending = e
            self._ready(t)
        try:
            self._reserve = bytearray(params.MEMORY_RESERVE_B)
        except MemoryError:
            pass  # retaken at the next failure

    def run_until(self, t, at_once=False):
        """Run until task t has ended (tests, asyncio.run); returns t."""
        self.run(t, at_once)
        return t

    def run_nested(self, t):
        """From the foreground task's step: run others until t ends (returning right after
        its last step, as asyncio's run_until_complete), never the caller."""
        caller = self.cur
        if caller is None or not caller.fg:
            raise RuntimeError(
                "asyncio.run() from a service task: await the coroutine instead "
                "(only the console's foreground code may run a nested loop)"
            )
        # Ctrl-C must reach the foreground only, never a service this loop happens to be
        # stepping (or the loop's own bookkeeping): while nested it arrives as a byte, the
        # C HAL counts it, and the loop raises KeyboardInterrupt between rounds.
        ctrl_c = getattr(self.clock, "ctrl_c_count", None)
        if ctrl_c is not None:
            micropython.kbd_intr(-1)
            self._ctrl_c0 = ctrl_c()
        self._nested_ctrl_c = ctrl_c
        try:
            self.run(t, True)
        finally:
            self._nested_ctrl_c = None
            self.cur = caller
            if ctrl_c is not None:
                micropython.kbd_intr(3)  # the foreground's code runs on with Ctrl-C armed
        return t

    def run_blocked(self, cond, slice_ms):
        """From the step of a kernel task blocked in C (a blocking socket call: kernel/
        netwait.py): step the other tasks, idling when none is ready, until cond.state is
        ENDED, slice_ms passed or the caller was cancelled; never the caller, which is
        stepping and so on no queue. The caller is charged for its step so far."""
        caller = self.cur
        if self._step is not None:  # the C step's baseline is in _t0: charge up to now
            now = self._ticks_us()
            caller.cpu_us += (now - self._t0) & _MASK
            self._t0 = now
            if caller.cpu_us >= _CPU_CARRY:
                self._carry(caller)
        dl = self._add(self._ticks_ms(), slice_ms)
        try:
            while cond.state < ENDED and caller.pending is None and not self._stop:
                try:
                    self._run_ready(cond, 1)
                except MemoryError as e:
                    self._out_of_memory(e)
                    continue
                if cond.state >= ENDED:
                    break
                ms = self._ticks_ms()
                left = self._diff(dl, ms)
                if left <= 0:
                    break
                if self._head is None:
                    if self.flag_posted:
                        self._wake_flags()
                    else:
                        self._idle(ms, left)
        finally:
            self.cur = caller
        self._epoch = (self._epoch + 1) & _MASK  # tell the caller's round that others ran

    def pull_output(self):
        """Move what services printed (captured by the HAL, not shown) into the log."""
        if self._captured is not None:
            b = self._captured()
            if b:
                self.log.pull(b)

    def stop(self):
        """Make run() return after the current step."""
        self._stop = True

    def uptime_ms(self):
        """ms since the clock was bound (accumulated, so it does not wrap with ticks)."""
        if self.clock is None:
            return 0
        ms = self._ticks_ms()
        self._up_ms += self._diff(ms, self._up_last)
        self._up_last = ms
        return self._up_ms

    def idle_ms(self):
        """Total ms spent idle."""
        return self.idle_s * 1000 + self.idle_us // 1000

    def current(self):
        """The task stepping now (None outside any step)."""
        return self.cur


def print_exception(e, file=sys.stdout):
    """MicroPython's traceback printer (for the shell and tests)."""
    sys.print_exception(e, file)
