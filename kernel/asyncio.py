# kernel/asyncio: MicroPython's asyncio API on the kernel.
#
# Owns: the asyncio names mapped onto kernel tasks and traps, so code written for
# MicroPython's asyncio runs unmodified (MicroPython's own tests/extmod/asyncio_*.py pass as
# on stock, make conformance) and its tasks are kernel tasks (they appear in ps, are
# accounted and watched). Covered: sleep, sleep_ms, create_task, gather, wait_for,
# wait_for_ms, current_task, run, run_until_complete, Loop (get_event_loop, new_event_loop,
# run_forever, stop, exception handlers), Event, Lock, Semaphore, Queue (+ QueueFull,
# QueueEmpty), ThreadSafeFlag, Task (cancel, done), CancelledError, TimeoutError; streams
# (open_connection, start_server, Stream) from kernel/streams.py on first use. For one
# deadline across several awaits use kernel.deadline().
# Semantics are MicroPython's where it differs from CPython: gather and wait_for take as many
# steps as there (the same interleaving), a task awaiting another passes a cancel on to it
# (Task.cancel), a gathered task cannot be awaited ("can't wait"), a failure nobody awaits
# goes to the loop's exception handler one step later.
# run(main) from the console's foreground task runs a nested loop that steps every other
# task but the caller, until main ends; from a service it raises RuntimeError; with no
# kernel running it runs the kernel until main ends. install() makes `import asyncio` (and
# `import uasyncio`) give this module.
import sys

from micropython import const

from kernel import sched as _sched
from kernel import scheduler as _scheduler
from kernel import traps
from kernel.errors import CancelledError, QueueEmpty, QueueFull, TimeoutError  # noqa: F401
from kernel.sync import Event, Lock, Queue, Semaphore, ThreadSafeFlag  # noqa: F401
from kernel.task import DONE, ENDED, Task, TaskQueue
from kernel.traps import park

_yield = traps.yield_
_sleep_ms = traps.sleep_ms
_TICKS_HALF = const(1 << 29)  # params.TICKS_PERIOD // 2: a longer sleep overflows ticks_add


def sleep_ms(t):
    """Sleep at least t milliseconds (0 or less: as sleep(0)). OverflowError from half the
    ticks period on, as MicroPython's (whose ticks_add refuses it)."""
    if t > 0:
        if t >= _TICKS_HALF:
            raise OverflowError("ticks interval overflow")
        return _sleep_ms(t)
    return _yield()


def sleep(t):
    """Sleep at least t seconds (whole ms, rounded up). 0 (or less) is the yield trap, which
    the C step puts back in the run queue inline: `await asyncio.sleep(0)` costs what
    `await kernel.yield_()` does."""
    if t > 0:
        return sleep_ms(int(t * 1000 + 0.999))
    return _yield()


try:  # the same in C (boards/common/modkasync.c): no Python frame per await
    import _kasync

    _kasync.bind(_yield, _sleep_ms, sleep)
    sleep = _kasync.sleep  # noqa: F811
    sleep_ms = _kasync.sleep_ms  # noqa: F811
except ImportError:
    pass


async def _sleep_for(ms):
    await _sleep_ms(ms)


async def _yield_once():
    await traps.yield_()


async def _park_on(q, timeout_ms):
    await traps.park(q, timeout_ms)


async def _wait_again(owner):
    return await owner.wait()  # asks again when it runs: set() may have come meanwhile


async def _await(aw):
    return await aw


async def _console_once():
    await traps.wait_console()


def _as_coro(aw):
    """A coroutine for any awaitable. A kernel Trap is a shared singleton whose arguments
    the next await would overwrite, so its arguments are copied into a coroutine now, and
    the call's arm is taken back (an arm lives only until the end of this step)."""
    if hasattr(aw, "send"):
        return aw
    if isinstance(aw, traps.Trap):
        aw.armed = False
        if aw.code == traps.CONSOLE:
            return _console_once()
        if aw.code == traps.SLEEP:
            return _sleep_for(aw.arg)
        if aw.code == traps.PARK:
            if aw.arg.owner is not None:  # Event/ThreadSafeFlag.wait(): ask it again later
                return _wait_again(aw.arg.owner)
            return _park_on(aw.arg, aw.arg2)
        if aw.code == traps.YIELD:
            return _yield_once()
    return _await(aw)


def current_task():
    """The task stepping now; RuntimeError outside any asyncio task (the console's own code
    outside asyncio.run, as MicroPython outside its loop)."""
    t = _scheduler().cur
    if t is None or t.fg:
        raise RuntimeError("no running event loop")
    return t


def create_task(coro, name=None):
    """Start an awaitable as a kernel task -> Task. If it fails and nobody awaits it, the
    loop's exception handler is told (Loop.set_exception_handler)."""
    if isinstance(coro, Task):
        return coro
    t = _scheduler().spawn(_as_coro(coro), name)
    t.on_fail = _unretrieved
    return t


def _promote(aw):
    return aw if isinstance(aw, Task) else create_task(aw)


def _unretrieved(t):
    # Lifecycle._report: t failed and nobody awaited it. As MicroPython's asyncio, the
    # handler is told one step later (a task spawned now runs after those queued), unless
    # someone takes the exception meanwhile (Task.result clears on_fail).
    _scheduler().spawn(_report_later(t), "asyncio-report")


async def _report_later(t):
    if t.on_fail is not None:
        t.on_fail = None
        _loop.call_exception_handler(
            {"message": "Task exception wasn't retrieved", "exception": t.exc, "future": t}
        )


# wait_for and gather are plain functions that return the coroutine: a kernel trap among
# their arguments (asyncio.sleep(1), ev.wait()) is copied into a coroutine at the call, in
# the caller's step, while its arguments are the caller's (an arm lasts only that step).


class _WaitFor:
    """What one wait_for's two tasks share: the waiting task, and whether it still sleeps
    out the timeout (then the runner may end that sleep with the outcome)."""

    def __init__(self, waiter):
        self.waiter = waiter
        self.sleeping = True


async def _run_for(wf, aw):
    # wait_for's runner: awaits aw, then ends the waiter's timeout sleep with a
    # CancelledError that carries the outcome: (True, result) or (exception, None).
    try:
        result = await aw
        status = True
    except BaseException as e:  # noqa: BLE001 - handed to the waiter, which raises it
        result = None
        status = e
    w = wf.waiter
    if wf.sleeping and w.pending is None and w.state < ENDED:
        w.sched.cancel(w)
        w.pending = CancelledError(status, result)


async def _wait_for(aw, sleep, timeout):
    # As MicroPython's asyncio.wait_for (the same tasks, so the same interleaving): aw runs
    # as a task under a runner task while this one sleeps the timeout; whichever ends first
    # decides. A cancel from outside cancels aw too.
    aw = _promote(aw)
    if timeout is None:
        return await aw
    me = _scheduler().cur
    wf = _WaitFor(me)
    runner = _scheduler().spawn(_run_for(wf, aw), None)
    try:
        await sleep(timeout)
    except CancelledError as e:
        wf.sleeping = False
        a = e.args
        if not a:  # cancelled from outside
            runner.cancel()
            raise
        me.cancelling = False  # the runner's cancel, consumed here
        if a[0] is True:
            return a[1]
        raise a[0]
    wf.sleeping = False
    runner.cancel()  # passed on to aw (the runner awaits it)
    await runner
    raise TimeoutError()


def wait_for(aw, timeout):
    """Await aw for at most `timeout` seconds (None: no limit); TimeoutError after that (aw
    is cancelled, and waited for)."""
    return _wait_for(_as_coro(aw) if isinstance(aw, traps.Trap) else aw, sleep, timeout)


def wait_for_ms(aw, timeout_ms):
    """Await aw for at most timeout_ms ms (None: no limit); TimeoutError after that."""
    return _wait_for(_as_coro(aw) if isinstance(aw, traps.Trap) else aw, sleep_ms, timeout_ms)


class _Gather:
    """One gather's progress, told of each sub-task's end (Task.on_end): it wakes the
    gathering task when all have ended, or at the first failure (unless
    return_exceptions)."""

    def __init__(self, return_exceptions):
        self.rex = return_exceptions
        self.left = 0  # sub-tasks still running
        self.exc = None  # the first failure, when it ends the gather
        self.woken = False
        self.q = TaskQueue()  # the gathering task waits here

    def __call__(self, t):
        if self.woken:
            return
        if t.state != DONE and not self.rex:
            self.exc = t.exc
        else:
            self.left -= 1
            if self.left:
                return
        self.woken = True
        w = self.q.head
        if w is not None:
            w.sched.wake(w)


def gather(*aws, return_exceptions=False):
    """Run the awaitables as tasks and return their results in order. The first exception
    ends the gather and is raised (the other tasks run on) unless return_exceptions, which
    puts each in its place. Cancelling the gather cancels the tasks still running.
    RuntimeError for a task something else awaits ("can't gather", as MicroPython)."""
    return _gather(
        [_as_coro(a) if isinstance(a, traps.Trap) else a for a in aws], return_exceptions
    )


async def _gather(aws, return_exceptions):
    ts = [_promote(a) for a in aws]
    g = _Gather(return_exceptions)
    for t in ts:
        if t.state < ENDED and (
            t.on_end is not None or (t.joiners is not None and t.joiners.head is not None)
        ):
            raise RuntimeError("can't gather")
    n = 0
    for t in ts:
        if t.state < ENDED:
            t.on_end = g
            n += 1
        elif t.state != DONE and not return_exceptions:
            n = -len(ts)  # one failed already: do not wait at all
    cancel = None
    if n > 0:
        g.left = n
        try:
            await park(g.q)
        except CancelledError as e:
            cancel = e
    err = cancel if cancel is not None else g.exc
    for i in range(len(ts)):
        t = ts[i]
        if t.on_end is g:  # still running: no longer gathered
            t.on_end = None
            if cancel is not None:
                t.cancel()
        elif t.state == DONE:
            ts[i] = t.value
        elif return_exceptions:
            ts[i] = t.exc
        elif err is None:
            err = t.exc
    if err is not None:
        raise err
    return ts


def run(main):
    """Run awaitable main to completion and return its result (see the module header)."""
    s = _sched.running()
    if s is None:
        s = _scheduler()
        t = main if isinstance(main, Task) else s.spawn(_as_coro(main), None)
        s.run_until(t, True)
        return t.result()
    if s.cur is None:
        raise RuntimeError("asyncio.run: called outside any task while the kernel runs")
    t = main if isinstance(main, Task) else s.spawn(_as_coro(main), None)
    try:
        s.run_nested(t)  # RuntimeError from a service task (not the foreground)
    except KeyboardInterrupt:
        t.cancel()  # as CPython's asyncio.run does: the coroutine does not run on
        raise
    if t.state < ENDED:
        t.cancel()
        raise RuntimeError("asyncio.run: the kernel stopped before the coroutine ended")
    return t.result()


def run_until_complete(main_task):
    """Run until the task (or awaitable) ends; its result (MicroPython's core function)."""
    if main_task is None:
        raise TypeError("run_until_complete: give the task to run until (the kernel runs on)")
    return run(_promote(main_task))


class _Stop:
    """A run_forever's end: stop() sets `flag` and wakes the stopper task waiting on q."""

    def __init__(self):
        self.flag = False
        self.q = TaskQueue()


async def _stopper(st):
    while not st.flag:
        await park(st.q)


class Loop:
    """The event loop object (one: it is the kernel). run_forever() runs a nested loop (as
    asyncio.run) until stop(); stop() ends it at the next step of the stopper, queued after
    the tasks ready now, as MicroPython's."""

    def __init__(self):
        self._exc_handler = None
        self._stop = None  # the running run_forever's _Stop

    def create_task(self, coro):
        return create_task(coro)

    def run_until_complete(self, aw):
        return run(_promote(aw))

    def run_forever(self):
        st = self._stop = _Stop()
        run(_stopper(st))

    def stop(self):
        st = self._stop
        if st is not None:
            self._stop = None  # a second stop() does nothing
            st.flag = True
            w = st.q.head
            if w is not None:
                w.sched.wake(w)

    def close(self):
        pass

    def set_exception_handler(self, handler):
        """handler(loop, context) is told of task failures nobody awaited (None: print)."""
        self._exc_handler = handler

    def get_exception_handler(self):
        return self._exc_handler

    def default_exception_handler(self, context):
        out = sys.stderr
        print(context["message"], file=out)
        print("future:", context["future"], file=out)
        sys.print_exception(context["exception"], out)

    def call_exception_handler(self, context):
        h = self._exc_handler
        if h is None:
            self.default_exception_handler(context)
        else:
            h(self, context)


_loop = Loop()


def get_event_loop(runq_len=0, waitq_len=0):
    """The loop object (one; it is the kernel). The arguments are legacy uasyncio's."""
    return _loop


def new_event_loop():
    """The loop, emptied: as MicroPython's new loop, tasks the console's asyncio code made
    on the old one never run again (they are ended, their finally blocks run). A service's
    tasks are never touched."""
    s = _scheduler()
    me = s.cur
    if me is None or not me.quiet:
        for t in s._tasks.values():
            if t.on_fail is not None and not t.quiet and t is not me and t.state < ENDED:
                s.drop(t, "cancelled")
    _loop._stop = None
    return _loop


def install():
    """Make `import asyncio` (and `import uasyncio`) return this module."""
    m = sys.modules[__name__]
    sys.modules["asyncio"] = m
    sys.modules["uasyncio"] = m


_STREAMS = ("open_connection", "start_server", "Stream", "StreamReader", "StreamWriter")


def __getattr__(name):
    # Streams live in kernel/streams.py, imported on first use.
    if name in _STREAMS:
        from kernel import streams

        return getattr(streams, name)
    raise AttributeError(name)
