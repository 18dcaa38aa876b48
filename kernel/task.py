# kernel/task: a task (one coroutine or generator the scheduler steps) and TaskQueue.
#
# Owns: task states, the Task object (identity, state, result, accounting counters) and the
# intrusive FIFO TaskQueue that links tasks through `Task.next` (the run queue, wait queues).
# Invariants: a task is on the run queue iff READY, on at most one wait queue (`queue` says
# which), in the scheduler's sleep heap iff `timed`; `state` has one meaning (below); an ended
# task keeps its result or exception. Hot fields are set in __init__ (no dict growth while
# switching); cold ones default on the class. Not here: stepping, accounting updates
# (kernel/sched.py).
from micropython import const

from kernel import params
from kernel.errors import KernelPanic
from kernel.heap import presize
from kernel.traps import park

READY = const(0)  # on the run queue, or stepping now (then it is the scheduler's `cur`)
RUNNING = const(1)  # shown for the task stepping now (ps); never stored in `state`
SLEEPING = const(2)  # in the sleep heap only
WAITING = const(3)  # on a wait queue (and in the sleep heap when it has a timeout)
DONE = const(4)  # returned; `value` holds the result
FAILED = const(5)  # raised; `exc` holds the exception, `reason` says what kind
CANCELLED = const(6)  # ended by cancel() / kill(); `exc` holds the CancelledError
STATE_NAMES = ("ready", "running", "sleeping", "waiting", "done", "failed", "cancelled")
ENDED = DONE  # states >= ENDED are final
_SLOTS = const(23)  # Task.__init__ sets 21 attributes; two spare for the cold ones


class TaskQueue:
    """FIFO of tasks linked through Task.next: O(1) push/pop, no allocation."""

    owner = None  # the primitive whose wait() parks here, if it hands out bare park traps
    joined = None  # the task whose end this queue's tasks await (Task.joiners)

    def __init__(self):
        self.head = None
        self.tail = None

    def push(self, t):
        if t.queue is not None:
            raise KernelPanic("task: %s already queued" % t.name)
        t.queue = self
        t.next = None
        if self.tail is None:
            self.head = t
        else:
            self.tail.next = t
        self.tail = t

    def pop(self):
        """Remove and return the first task (None when empty)."""
        t = self.head
        if t is not None:
            self.head = t.next
            if self.head is None:
                self.tail = None
            t.next = None
            t.queue = None
        return t

    def remove(self, t):
        """Unlink t (O(n)); used by cancel and timeouts, not by switching."""
        prev = None
        n = self.head
        while n is not None:
            if n is t:
                if prev is None:
                    self.head = n.next
                else:
                    prev.next = n.next
                if self.tail is n:
                    self.tail = prev
                t.next = None
                t.queue = None
                return True
            prev = n
            n = n.next
        return False

    def __iter__(self):
        n = self.head
        while n is not None:
            yield n
            n = n.next

    def __len__(self):
        k = 0
        n = self.head
        while n is not None:
            k += 1
            n = n.next
        return k


class Task:
    """One coroutine (or generator) run by the scheduler; awaitable: `await t` joins it."""

    # Cold fields, defaults on the class (set on the instance only when they change).
    reason = None  # why it ended: 'exit', 'exception', 'watchdog', 'memory', 'cancelled', ...
    value = None  # return value (DONE)
    exc = None  # exception (FAILED, CANCELLED)
    joiners = None  # TaskQueue of tasks joining this one, made by the first join
    fg = False  # foreground (the console's code): no watchdog, may call asyncio.run()
    budget_ms = params.WATCHDOG_BUDGET_MS  # watchdog budget per step; 0: none
    cancelling = False  # a cancel was requested (a second kill() closes the coroutine)
    handed = None  # a Lock/Semaphore released to this waiter, not yet taken (kernel/sync.py)
    on_end = None  # fn(task), called once when it ends (asyncio.gather); awaiting it: refused
    on_fail = None  # fn(task) for a failure nobody awaited (asyncio's exception handler)
    cpu_s = 0  # whole seconds of CPU carried out of cpu_us
    alloc_kb = 0  # KiB carried out of alloc_b
    stale = 0  # trap calls it left unawaited (dropped at the end of its step, kernel/traps.py)
    watch = None  # the metrics Rec of its service while idle: told when it is readied again

    def __init__(self, sched, coro, tid, name, budget_ms):
        presize(self, _SLOTS)  # its table made once, at the size below
        self.sched = sched
        self.coro = coro
        self.id = tid
        self.name = name
        self.state = READY
        self.next = None  # link on the TaskQueue `queue`
        self.queue = None  # the TaskQueue this task is on, or None
        self.pending = None  # exception to throw in at the next step (cancel, timeout)
        self.steps = 0  # steps run (wraps at params.COUNTER_MASK)
        self.cpu_us = 0  # µs of CPU not yet carried into cpu_s
        self.alloc_b = 0  # heap bytes allocated while stepping, not yet carried into alloc_kb
        self.last_run = 0  # ticks_ms of the round in which it last stepped
        self.wd_ms = 0  # watchdog budget passed to resume (0: none), see set_budget()
        self.quiet = False  # True: what its steps print goes to the kernel log (services)
        self.wd_us = 0  # step length in µs from which the scheduler checks for an overrun
        # The sleep heap's fields, set here so that a first sleep grows no dict (asyncio
        # code sleeps under micropython.heap_lock(), as MicroPython's asyncio allows).
        self.timed = False  # in the sleep heap (deadline in ph_key)
        self.ph_key = 0  # sleep heap: deadline (ticks_ms)
        self.ph_child = None  # sleep heap links (pairing heap, as MicroPython's asyncio)
        self.ph_child_last = None
        self.ph_next = None
        self.ph_rightmost_parent = None
        self.set_budget(budget_ms)

    def set_budget(self, budget_ms=None):
        """Set the watchdog budget per step in ms (None: keep; 0: no watchdog)."""
        if budget_ms is not None and budget_ms != self.budget_ms:
            self.budget_ms = budget_ms
        b = 0 if self.fg else self.budget_ms
        self.wd_ms = b
        # The C watchdog counts whole ms ticks, so it may hit up to 1 ms early: look from
        # budget - 1 ms on (the scheduler then asks the HAL whether it hit).
        self.wd_us = max(b - 1, 1) * 1000 if b > 0 else params.CPU_CARRY_US

    def state_name(self):
        """The state as a word for ps ('running' for the task stepping now)."""
        if self.state == READY and self.sched.cur is self:
            return STATE_NAMES[RUNNING]
        return STATE_NAMES[self.state]

    def done(self):
        """True when the task has ended (returned, failed or was cancelled)."""
        return self.state >= ENDED

    def cpu_ms(self):
        """Total CPU time in ms."""
        return self.cpu_s * 1000 + self.cpu_us // 1000

    def alloc_kib(self):
        """Total heap allocated while stepping, in KiB."""
        return self.alloc_kb + (self.alloc_b >> 10)

    def result(self):
        """The return value; re-raises the task's exception; RuntimeError while running."""
        if self.state == DONE:
            return self.value
        if self.state >= ENDED:
            if self.on_fail is not None:
                self.on_fail = None  # retrieved: asyncio's exception handler is not told
            raise self.exc
        raise RuntimeError("task %s: not done yet (state %s)" % (self.name, self.state_name()))

    def exception(self):
        """The exception the task ended with, or None."""
        return self.exc

    def cancel(self):
        """Request cancellation (asyncio's Task.cancel): CancelledError at its await point.
        A task awaiting another task passes the cancel on to it, as MicroPython's asyncio
        does (the awaiter then sees how that one ended). False if it had ended; RuntimeError
        for the task stepping now ("can't cancel self", as MicroPython)."""
        if self.state >= ENDED:
            return False
        s = self.sched
        if self is s.cur:
            raise RuntimeError("can't cancel self")
        t = self
        while t.state == WAITING and t.queue is not None and t.queue.joined is not None:
            t = t.queue.joined  # it awaits that task: cancel that one
        return s.cancel(t)

    def join_queue(self):
        """The queue of tasks awaiting this one's end (made on first use)."""
        q = self.joiners
        if q is None:
            q = self.joiners = TaskQueue()
            q.joined = self
        return q

    def __iter__(self):
        # Join: park on the joiners until this task ends, then return its result / raise.
        if self.state < ENDED:
            if self.on_end is not None:  # gathered (asyncio.gather): as MicroPython's asyncio
                raise RuntimeError("can't wait")
            yield from park(self.join_queue())  # `from`: consumes the trap's arming
        return self.result()

    __await__ = __iter__

    def __repr__(self):
        return "<Task %d %s %s>" % (self.id, self.name, self.state_name())
