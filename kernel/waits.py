# kernel/waits: where tasks wait: the run queue, wait queues, the sleep heap, and the trap
# handlers that put a task on one of them; waking (sleepers that are due, console readers,
# posted ThreadSafeFlags).
#
# Owns: Waits, the base class of Lifecycle and Scheduler (it uses the attributes that
# Scheduler.__init__ sets). Invariants: a task is READY iff on the run queue (or stepping),
# SLEEPING iff only in the sleep heap, WAITING iff on a wait queue (and in the heap when its
# wait has a timeout); a parked task leaves by wake(), its timeout or a cancel, each taking
# it off both. Not here: stepping and accounting (kernel/sched.py), ending tasks
# (kernel/lifecycle.py).
from kernel import params
from kernel.errors import KernelPanic, TimeoutError
from kernel.task import READY, SLEEPING, WAITING


class Waits:
    """Queues and trap handlers; the Scheduler's lower half."""

    def wake(self, t):
        """Make a parked task runnable (sync primitives call this with their queue's head)."""
        if t.state != SLEEPING and t.state != WAITING:
            raise KernelPanic("sched: wake of %s, which is %s" % (t.name, t.state_name()))
        if t.timed:
            self._sleepq.remove(t)
        if t.queue is not None:
            t.queue.remove(t)
        self._ready(t)

    def _ready(self, t):
        t.state = READY
        t.next = None
        if self._tail is None:
            self._head = t
        else:
            self._tail.next = t
        self._tail = t
        w = t.watch
        if w is not None:  # its service's metrics went idle: they sample it again
            t.watch = None
            w.reg._hot(w)

    def _unpark(self, t):
        if t.timed:
            self._sleepq.remove(t)
        if t.queue is not None:
            t.queue.remove(t)

    def _unlink(self, t):
        """Take t off every queue (run, wait, sleep)."""
        self._unpark(t)
        if t.state == READY:
            prev = None
            n = self._head
            while n is not None and n is not t:
                prev = n
                n = n.next
            if n is t:
                if prev is None:
                    self._head = t.next
                else:
                    prev.next = t.next
                if self._tail is t:
                    self._tail = prev
                t.next = None

    # ---- traps: each handler gets the task that trapped and the Trap ----

    def _t_yield(self, t, trap):
        self._ready(t)

    def _t_sleep(self, t, trap):
        trap.armed = False  # a generator task may have yielded it without awaiting it
        ms = trap.arg
        if ms <= 0 or t.pending is not None:
            self._ready(t)
            return
        ms = min(ms, params.MAX_SLEEP_MS)
        t.state = SLEEPING
        self._sleepq.push(t, self._add(self._ticks_ms(), ms))

    def _t_park(self, t, trap):
        trap.armed = False
        q = trap.arg
        trap.arg = None  # drop the reference
        if t.pending is not None:
            self._ready(t)
            return
        t.state = WAITING
        q.push(t)
        if trap.arg2 >= 0:
            self._sleepq.push(t, self._add(self._ticks_ms(), trap.arg2))

    def _t_console(self, t, trap):
        trap.armed = False
        if self._console_any is None:
            t.pending = RuntimeError("wait_console: this clock has no console")
        if t.pending is not None or self._console_any() > 0:
            self._ready(t)
            return
        t.state = WAITING
        self._console_q.push(t)

    def _throw(self, t):
        exc = t.pending
        t.pending = None
        return t.coro.throw(exc)

    def _bad_yield(self, t, r):
        t.pending = TypeError("task %s yielded %r: await kernel traps only" % (t.name, r))
        self._ready(t)

    def _wake_due(self, ms):
        sq = self._sleepq
        diff = self._diff
        while sq.heap is not None and diff(sq.heap.ph_key, ms) <= 0:
            t = sq.pop()
            if t.state == WAITING:  # a timed wait ran out
                if t.queue is not None:
                    t.queue.remove(t)
                t.pending = TimeoutError()
            self._ready(t)

    def _wake_flags(self):
        # A ThreadSafeFlag was set (maybe from a soft interrupt handler, which only stores):
        # hand each set flag to its first waiter. Clear the post first: a set() that lands
        # during the scan posts again and is seen at the next round.
        self.flag_posted = False
        for f in self._flags:
            if f.state and f.waiting.head is not None:
                f.state = False
                self.wake(f.waiting.head)

    def watch_flag(self, f):
        """Scan flag f at round boundaries from now on (ThreadSafeFlag.wait does this)."""
        if f not in self._flags:
            self._flags.append(f)

    def _wake_console(self):
        cq = self._console_q
        while cq.head is not None:
            self.wake(cq.head)
