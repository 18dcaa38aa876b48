# kernel/asyncio: MicroPython's asyncio API (the subset services use) on the kernel.
#
# Owns: the asyncio names mapped onto kernel tasks and traps, so a service written for
# MicroPython's asyncio runs unmodified and its tasks are kernel tasks (they appear in ps, are
# accounted and watched). Covered: sleep, sleep_ms, create_task, gather, wait_for,
# wait_for_ms, current_task, run, get_event_loop/new_event_loop (minimal), Event, Lock,
# Semaphore, Queue (+ QueueFull/QueueEmpty), ThreadSafeFlag, Task.cancel, CancelledError,
# TimeoutError; streams (open_connection, start_server, Stream) from kernel/streams.py on
# first use. Not covered: loop exception handlers; for one deadline across several awaits
# use kernel.deadline().
# run(main) from the console's foreground task runs a nested loop that steps every other
# task but the caller; from a service it raises RuntimeError; with no kernel running it runs
# the kernel until main ends. install() makes `import asyncio` give this module.
import sys

from kernel import sched as _sched
from kernel import scheduler as _scheduler
from kernel import traps
from kernel.errors import CancelledError, QueueEmpty, QueueFull, TimeoutError  # noqa: F401
from kernel.sync import Event, Lock, Queue, Semaphore, ThreadSafeFlag  # noqa: F401
from kernel.task import ENDED, Task, TaskQueue
from kernel.traps import park

_yield = traps.yield_
_sleep_s = traps.sleep
_sleep_ms = traps.sleep_ms


def sleep(t):
    """Sleep at least t seconds. 0 (or less) is the yield trap, which the C step puts back
    in the run queue inline: `await asyncio.sleep(0)` costs what `await kernel.yield_()` does."""
    if t > 0:
        return _sleep_s(t)
    return _yield()


def sleep_ms(t):
    """Sleep at least t milliseconds (0 or less: as sleep(0))."""
    if t > 0:
        return _sleep_ms(t)
    return _yield()


try:  # the same in C (boards/common/modkasync.c): no Python frame per await
    import _kasync

    _kasync.bind(_yield, _sleep_ms, sleep)
    sleep = _kasync.sleep  # noqa: F811
    sleep_ms = _kasync.sleep_ms  # noqa: F811
except ImportError:
    pass


async def _sleep_for(ms):
    await traps.sleep_ms(ms)


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
    """The task stepping now."""
    t = _scheduler().cur
    if t is None:
        raise RuntimeError("current_task: no task is running")
    return t


def create_task(coro, name=None):
    """Start an awaitable as a kernel task -> Task."""
    if isinstance(coro, Task):
        return coro
    return _scheduler().spawn(_as_coro(coro), name)


async def _join_for(t, timeout_ms):
    # Wait for task t up to timeout_ms (None: for ever); on timeout cancel it, wait for it to
    # finish cancelling (as CPython), then raise TimeoutError.
    if t.state < ENDED:
        if t.joiners is None:
            t.joiners = TaskQueue()
        try:
            await park(t.joiners, -1 if timeout_ms is None else max(0, timeout_ms))
        except TimeoutError:
            t.cancel()
            try:
                await t
            except BaseException:  # noqa: BLE001 - its ending is not ours to report
                pass
            raise
        except CancelledError:
            t.cancel()
            raise
    return t.result()


# wait_for and gather are plain functions that return the coroutine: a kernel trap among
# their arguments (asyncio.sleep(1), ev.wait()) is copied into a coroutine at the call, in
# the caller's step, while its arguments are the caller's (an arm lasts only that step).


def wait_for_ms(aw, timeout_ms):
    """Await aw for at most timeout_ms ms (None: no limit); TimeoutError after that."""
    if isinstance(aw, traps.Trap):
        aw = _as_coro(aw)
    return _wait_for_ms(aw, timeout_ms)


async def _wait_for_ms(aw, timeout_ms):
    if timeout_ms is None:
        return await aw
    t = aw if isinstance(aw, Task) else _scheduler().spawn(_as_coro(aw), None)
    return await _join_for(t, timeout_ms)


def wait_for(aw, timeout):
    """Await aw for at most `timeout` seconds (None: no limit); TimeoutError after that."""
    return wait_for_ms(aw, None if timeout is None else int(timeout * 1000))


def gather(*aws, return_exceptions=False):
    """Run the awaitables as tasks and return their results in order. An exception is
    raised (the first in argument order) unless return_exceptions, which returns it."""
    return _gather(
        [_as_coro(a) if isinstance(a, traps.Trap) else a for a in aws], return_exceptions
    )


async def _gather(aws, return_exceptions):
    s = _scheduler()
    ts = [a if isinstance(a, Task) else s.spawn(_as_coro(a), None) for a in aws]
    out = []
    for t in ts:
        try:
            out.append(await t)
        except Exception as e:
            if not return_exceptions:
                raise
            out.append(e)
    return out


def run(main):
    """Run awaitable main to completion and return its result (see the module header)."""
    s = _sched.running()
    if s is None:
        s = _scheduler()
        t = s.spawn(_as_coro(main), None)
        s.run_until(t)
        return t.result()
    if s.cur is None:
        raise RuntimeError("asyncio.run: called outside any task while the kernel runs")
    t = s.spawn(_as_coro(main), None)
    try:
        s.run_nested(t)  # RuntimeError from a service task (not the foreground)
    except KeyboardInterrupt:
        t.cancel()  # as CPython's asyncio.run does: the coroutine does not run on
        raise
    if t.state < ENDED:
        t.cancel()
        raise RuntimeError("asyncio.run: the kernel stopped before the coroutine ended")
    return t.result()


class Loop:
    """The minimal event loop object some asyncio code asks for."""

    def create_task(self, coro):
        return create_task(coro)

    def run_until_complete(self, aw):
        return run(aw)

    def run_forever(self):
        _scheduler().run()

    def stop(self):
        _scheduler().stop()

    def close(self):
        pass


_loop = Loop()


def get_event_loop():
    """The loop object (one; it is the kernel)."""
    return _loop


new_event_loop = get_event_loop


def install():
    """Make `import asyncio` return this module (services written for asyncio)."""
    sys.modules["asyncio"] = sys.modules[__name__]


_STREAMS = ("open_connection", "start_server", "Stream", "StreamReader", "StreamWriter")


def __getattr__(name):
    # Streams live in kernel/streams.py, imported on first use.
    if name in _STREAMS:
        from kernel import streams

        return getattr(streams, name)
    raise AttributeError(name)
