# kernel/sync: Event, ThreadSafeFlag, Lock, Semaphore, Queue on the kernel's park/wake traps.
#
# Owns: the waiting primitives, with asyncio's names and behaviour (Queue as CPython's:
# maxsize, QueueFull, QueueEmpty, put_nowait/get_nowait). ThreadSafeFlag is the only one that
# interrupt-side code may set (its set() only stores). Waiters park on a TaskQueue
# (FIFO, intrusive: no allocation to wait) and are woken in order. Event.wait() returns a
# preallocated awaitable (no allocation); Lock/Semaphore/Queue waits are small coroutines so
# that a cancelled waiter hands its place on. Non-blocking calls end in `_nowait` (Trio).
# Not here: timeouts (asyncio.wait_for / wait_for_ms), the scheduler.
from kernel import params
from kernel import sched as _sched
from kernel.errors import CancelledError, QueueEmpty, QueueFull
from kernel.task import TaskQueue
from kernel.traps import READY_TRUE, park, park_true


def _wake_one(q):
    t = q.head
    if t is None:
        return None
    t.sched.wake(t)
    return t


def _hand_over(q, prim):
    # Wake the first waiter and give it what is being released (marked on the task, so that
    # if it is cancelled before it runs it passes the gift on); None when nobody waits.
    t = _wake_one(q)
    if t is not None:
        t.handed = prim
    return t


async def _wait_handed(prim, q):
    # Park on q until _hand_over() gives us prim; pass it on if cancelled after the gift.
    try:
        await park(q)
    except CancelledError:
        me = _sched.running().cur
        if me.handed is prim:
            me.handed = None
            prim._pass_on()
        raise
    _sched.running().cur.handed = None


def _wake_all(q):
    while q.head is not None:
        t = q.head
        t.sched.wake(t)


class Event:
    """A flag tasks can wait for; set() wakes every waiter."""

    def __init__(self):
        self.state = False
        self.waiting = TaskQueue()
        self.waiting.owner = self  # asyncio.wait_for(ev.wait()) re-asks us, see _as_coro

    def is_set(self):
        return self.state

    def set(self):
        """Set the flag and wake all waiters. Not from interrupt-side code (micropython.schedule
        handlers): use ThreadSafeFlag there."""
        self.state = True
        _wake_all(self.waiting)

    def clear(self):
        self.state = False

    def wait(self):
        """Await until set; evaluates to True. No allocation."""
        if self.state:
            return READY_TRUE
        return park_true(self.waiting)


class ThreadSafeFlag:
    """A flag that interrupt-side code may set (asyncio's name): set() only stores, so it is
    safe from a soft interrupt handler (micropython.schedule), which may run in the middle
    of the scheduler's own code; the scheduler wakes the waiter at its next round. One
    waiter gets each set(); wait() clears the flag."""

    def __init__(self):
        self.state = False
        self.waiting = TaskQueue()
        self.waiting.owner = self
        self.sched = None  # the scheduler told of set() (bound by the first wait)

    def set(self):
        self.state = True
        s = self.sched
        if s is not None:
            s.flag_posted = True

    def clear(self):
        self.state = False

    def wait(self):
        """Await until set (at once if it is); clears the flag; evaluates to True."""
        if self.state:
            self.state = False
            return READY_TRUE
        if self.sched is None:
            self.sched = _sched.running()
            self.sched.watch_flag(self)
        return park_true(self.waiting)


class Lock:
    """A mutual-exclusion lock (async with lock: ...), handed to waiters in FIFO order. As
    MicroPython's: from release() until the waiter it was handed to runs, locked() is
    False, yet a new acquire() waits behind that waiter."""

    def __init__(self):
        self.state = False  # held, or handed to a waiter that has not run yet
        self.handing = False  # handed, not yet taken
        self.waiting = TaskQueue()

    def locked(self):
        return self.state and not self.handing

    async def acquire(self):
        """Await until this task holds the lock; evaluates to True."""
        if not self.state and self.waiting.head is None:
            self.state = True
            return True
        await _wait_handed(self, self.waiting)  # release() hands it over: state stays True
        self.handing = False
        return True

    def release(self):
        """Release; the first waiter (if any) gets the lock. RuntimeError if not held."""
        if not self.state or self.handing:
            raise RuntimeError("Lock not acquired")
        self._pass_on()

    def _pass_on(self):
        # To the first waiter, else unlocked (also when a waiter handed it is cancelled).
        self.handing = _hand_over(self.waiting, self) is not None
        if not self.handing:
            self.state = False

    async def __aenter__(self):
        return await self.acquire()

    async def __aexit__(self, *exc):
        self.release()


class Semaphore:
    """A counter of free slots; acquire() waits while it is 0."""

    def __init__(self, value=1):
        if value < 0:
            raise ValueError("Semaphore: value must be >= 0, got %r" % (value,))
        self.value = value
        self.waiting = TaskQueue()

    def locked(self):
        return self.value == 0

    async def acquire(self):
        if self.value > 0 and self.waiting.head is None:
            self.value -= 1
            return True
        await _wait_handed(self, self.waiting)  # release() handed us its slot
        return True

    def release(self):
        if _hand_over(self.waiting, self) is None:
            self.value += 1

    _pass_on = release  # a waiter handed the slot was cancelled: the next one gets it

    async def __aenter__(self):
        return await self.acquire()

    async def __aexit__(self, *exc):
        self.release()


class Queue:
    """FIFO queue; maxsize 0 means unbounded (CPython's asyncio.Queue)."""

    def __init__(self, maxsize=params.QUEUE_MAXSIZE_DEFAULT):
        self.maxsize = maxsize
        self.items = []
        self.getters = TaskQueue()  # tasks waiting for an item
        self.putters = TaskQueue()  # tasks waiting for room

    def qsize(self):
        return len(self.items)

    def empty(self):
        return not self.items

    def full(self):
        return 0 < self.maxsize <= len(self.items)

    def put_nowait(self, item):
        """Append item; raise QueueFull when full."""
        if self.full():
            raise QueueFull()
        self.items.append(item)
        _wake_one(self.getters)

    def get_nowait(self):
        """Take the first item; raise QueueEmpty when empty."""
        if not self.items:
            raise QueueEmpty()
        item = self.items.pop(0)
        _wake_one(self.putters)
        return item

    async def put(self, item):
        """Await room, then append item."""
        while self.full():
            await park(self.putters)
        self.put_nowait(item)

    async def get(self):
        """Await an item and take it."""
        try:
            while not self.items:
                await park(self.getters)
        except CancelledError:
            if self.items:  # we may have been woken for an item: let the next getter have it
                _wake_one(self.getters)
            raise
        return self.get_nowait()
