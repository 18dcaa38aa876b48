# kernel/lifecycle: the task-table half of the scheduler: making, listing, cancelling and
# ending tasks, failure reports, the watchdog's verdict and counter carries.
#
# Owns: Lifecycle, the base class of kernel.sched.Scheduler (it uses the attributes that
# Scheduler.__init__ sets and the queue methods of its own base, kernel/waits.py). Invariants: an
# ended task is off every queue, keeps its result or exception, wakes its joiners, and a failure is
# reported exactly once (to on_failure, else to the log). Not here: stepping and the run loop
# (kernel/sched.py), per-step accounting (the hot path, kernel/sched.py).
from micropython import const

from kernel import params, traps
from kernel.errors import CancelledError, Watchdog
from kernel.log import ERROR, WARN
from kernel.task import CANCELLED, ENDED, FAILED, SLEEPING, WAITING, Task
from kernel.waits import Waits

_MASK = const((1 << 30) - 1)  # params.COUNTER_MASK
_CPU_CARRY = const(1 << 28)  # params.CPU_CARRY_US
_ALLOC_CARRY = const(1 << 28)  # params.ALLOC_CARRY_B
ENDED_STEP = traps.Trap(traps.READY)  # sentinel "the step ended the task", never awaited
# Told to a service that left a trap armed when its message cannot be built (heap full).
_STALE = RuntimeError("a kernel trap was called without await: the call was dropped")


def _name_of(coro, tid):
    r = repr(coro)  # "<generator object 'name' at 7f...>"
    i = r.find("'")
    j = r.find("'", i + 1)
    name = r[i + 1 : j] if 0 <= i < j else "task"
    return ("%s#%d" % (name, tid))[: params.TASK_NAME_MAX]


# The exception a task dropped for swallowing the step watchdog ends with (t.exc): one
# object, so that its on_end can tell it from a Watchdog that came out of the task's code.
WATCHDOG_DROP = Watchdog("swallowed the step watchdog")


class Lifecycle(Waits):
    """Tasks from spawn to their end; the Scheduler is a Lifecycle with a run loop."""

    # ---- tasks ----

    def spawn(self, coro, name=None, budget_ms=None):
        """Make a task of a coroutine or generator; it runs from the next round."""
        if not hasattr(coro, "send"):
            if isinstance(coro, traps.Trap):  # spawn(asyncio.sleep_ms(5)): armed by the call
                coro.armed = False
                raise TypeError(
                    "spawn: got a kernel trap (%s): await it, or spawn a coroutine that "
                    "awaits it" % traps.TRAP_NAMES[coro.code]
                )
            raise TypeError("spawn: need a coroutine or generator, got %r" % (coro,))
        tid = self._next_id
        self._next_id = (tid + 1) & _MASK or 1
        if name is None:
            name = _name_of(coro, tid)
        t = Task(
            self, coro, tid, name, params.WATCHDOG_BUDGET_MS if budget_ms is None else budget_ms
        )
        if self.cur is not None and self.cur.quiet:
            t.quiet = True  # a service's helper tasks do not own the console either
        self._tasks[tid] = t
        self._ready(t)
        return t

    def tasks(self):
        """Alive tasks by id, then the recently ended ones (a new list)."""
        alive = sorted(self._tasks.values(), key=lambda t: t.id)
        return alive + self._ended

    def get(self, tid):
        """The alive or recently ended task with this id, or None."""
        t = self._tasks.get(tid)
        if t is None:
            for e in self._ended:
                if e.id == tid:
                    return e
        return t

    def set_foreground(self, t, flag):
        """Mark t as the console's foreground code: no watchdog, may nest asyncio.run()."""
        t.fg = bool(flag)
        t.set_budget()

    def cancel(self, t, reason="cancelled"):
        """CancelledError at t's await point (its finally blocks run). False if it ended."""
        if t.state >= ENDED:
            return False
        t.cancelling = reason
        t.pending = CancelledError()
        if t.state == SLEEPING or t.state == WAITING:
            self._unpark(t)
            self._ready(t)
        return True  # READY or RUNNING: thrown in at its next step / next trap

    def kill(self, tid):
        """Cancel task tid (reason 'killed'); a second kill closes it at once (_drop)."""
        t = self._tasks.get(tid)
        if t is None:
            return False
        # Not the stepping task, nor the foreground one (it may be stepping below a nested
        # loop): closing a running coroutine is impossible; they get another cancel instead.
        if t.cancelling and t is not self.cur and not t.fg:
            self.drop(t, "killed")
            return True
        return self.cancel(t, "killed")

    def drop(self, t, reason):
        """End t now, off every queue, without stepping it again: its coroutine is closed
        (finally blocks run), it ends cancelled (asyncio.new_event_loop, a second kill)."""
        self._unlink(t)
        self._drop(t, reason, CancelledError())

    # ---- ending tasks ----

    def _fail(self, t, e):
        if isinstance(e, CancelledError):
            return self._end(t, CANCELLED, t.cancelling or "cancelled", None, e)
        if isinstance(e, MemoryError):
            self._reserve = None  # room to report and recover
            r = self._end(t, FAILED, "memory", None, e)
            try:
                self._reserve = bytearray(params.MEMORY_RESERVE_B)
            except MemoryError:
                pass  # retaken at the next failure
            return r
        if isinstance(e, Watchdog):
            return self._end(t, FAILED, "watchdog", None, e)
        if isinstance(e, KeyboardInterrupt):
            return self._end(t, FAILED, "interrupted", None, e)
        return self._end(t, FAILED, "exception", None, e)

    def _drop(self, t, reason, exc):
        """End t now and close its coroutine: its finally blocks run (GeneratorExit at its
        await point), under the watchdog when the HAL has one, so a finally that loops is
        stopped too instead of hanging the kernel or a shutdown."""
        coro = t.coro
        self._end(t, FAILED if reason == "watchdog" else CANCELLED, reason, None, exc)
        resume = self._resume

        def closer():  # a step whose body is the close, so resume() can watch it
            coro.close()
            yield

        try:
            if resume is None:
                coro.close()
            else:
                resume(closer(), None, params.WATCHDOG_BUDGET_MS)
        except BaseException as e:  # noqa: BLE001 - it is being dropped; keep the first cause
            self.log.log("task %s: close raised %r (ignored)" % (t.name, e), ERROR)
        if traps.armed():  # a finally block called a trap it could not await: nobody's
            traps.disarm()
        self._resync()  # the close is nobody's step: do not charge it to the next task

    def _end(self, t, state, reason, value, exc):
        t.state = state
        t.reason = reason
        t.value = value
        t.exc = exc
        t.coro = None
        t.pending = None
        self._tasks.pop(t.id, None)
        self._ended.append(t)
        if len(self._ended) > params.TASKS_ENDED_KEPT:
            self._ended.pop(0)
        waited = False  # someone takes its ending: a joiner, or the on_end callback
        j = t.joiners
        if j is not None and j.head is not None:
            waited = True
            while j.head is not None:
                self.wake(j.head)
        cb = t.on_end
        if cb is not None:
            t.on_end = None
            waited = True
            cb(t)
        took = False  # an end hook took it (the service manager: a service's run ended)
        for fn in self.end_hooks:
            if fn(t):
                took = True
        if state == FAILED and not took:
            self._report(t, waited)
        return ENDED_STEP

    def _report(self, t, waited=False):
        """Tell the supervisor (on_failure) or else the log, once, that t failed. A task
        with on_fail (made by kernel.asyncio) is asyncio's: its on_fail is told instead,
        unless a waiter took the exception (waited)."""
        fn = t.on_fail
        if fn is not None:
            if waited:
                t.on_fail = None
                return
            try:
                fn(t)
                return
            except Exception as e:  # noqa: BLE001 - as a broken hook, below
                self.log.log("on_fail of %s raised %r" % (t.name, e), ERROR)
        hook = self.on_failure
        if hook is not None:
            try:
                hook(t)
                return
            except Exception as e:  # noqa: BLE001 - a broken hook must not lose the report
                self.log.log("on_failure hook raised %r" % (e,), ERROR)
        self.log.log("task %s (%d) failed: %s: %r" % (t.name, t.id, t.reason, t.exc), ERROR)

    def _overrun(self, t, d, r):
        """The step ran d µs, past t's watchdog threshold: drop it if over budget."""
        if t.wd_ms == 0 or r is ENDED_STEP:
            return r
        hits = self._wdt_hits() if self._wdt_hits is not None else 0
        if self._step_gc_us is not None:
            d -= self._step_gc_us()  # a collection inside it is the heap's time, not its own
        if not hits and d < t.wd_ms * 1000:
            return r
        # It swallowed the watchdog (or ran over with no watchdog to hit it): drop it.
        self._drop(t, "watchdog", WATCHDOG_DROP)
        return ENDED_STEP

    def _stale(self, t, r):
        """t's step left a trap armed that it did not await (`kernel.sleep_ms(5)` without
        `await`); r is what the step yielded. Drop every arm now, before another task steps
        (one resumed inside an await of that trap would yield it with t's argument), and
        tell t: a log line (once per task), and a service's task (quiet) gets RuntimeError
        at its next await, as MicroPython's asyncio asserts on the same mistake. Returns r,
        which goes on to its handler (a trap a generator yielded bare keeps its arguments).
        Allocates only for the message: with the heap full or locked, the drop still works."""
        what = None
        for tr in traps.HOT:
            if tr is not r and tr.armed:
                what = tr
                break
        traps.disarm()
        if what is not None and what.code == traps.PARK:
            what.arg = None  # drop its queue reference
        exc = _STALE
        try:
            call = "a kernel trap"
            if what is not None:
                call = traps.CALL_NAMES[what.code]
                if "%" in call:
                    call = call % (what.arg,)
            exc = RuntimeError(
                "task %s called %s without await: the call was dropped (await it)" % (t.name, call)
            )
            t.stale += 1
            if t.stale == 1:
                self.log.log(str(exc), WARN)
        except MemoryError:
            pass
        if t.quiet and r is not ENDED_STEP and t.pending is None:
            t.pending = exc
        return r

    def _carry(self, t):
        # Fold the hot counters into coarse ones before they leave small-int range. steps
        # wraps here too: a step costs well over 0.25 µs, so steps < 2**30 when cpu_us
        # reaches 2**28 µs.
        t.steps &= _MASK
        if t.cpu_us >= _CPU_CARRY:
            t.cpu_s += t.cpu_us // 1000000
            t.cpu_us %= 1000000
        if t.alloc_b >= _ALLOC_CARRY:
            t.alloc_kb += t.alloc_b >> 10
            t.alloc_b &= 1023
