# Tests for kernel/asyncio: MicroPython-asyncio code runs unmodified on the kernel.
import kernel
import kernel.asyncio as asyncio  # noqa: PLR0402 - not through kernel.__getattr__
from kernel.clock import VirtualClock
from kernel.sched import Scheduler


def fresh():
    return kernel.reset(VirtualClock(0, 0))


def test_run_without_kernel_running_runs_to_completion():
    s = fresh()

    async def main():
        await asyncio.sleep(2)
        await asyncio.sleep_ms(500)
        return "r"

    assert asyncio.run(main()) == "r"
    assert s.uptime_ms() == 2500


def test_create_task_gives_kernel_tasks_seen_in_tasks():
    fresh()

    async def child():
        await asyncio.sleep_ms(1)
        return 3

    async def main():
        t = asyncio.create_task(child())
        assert t in kernel.tasks()
        assert asyncio.current_task() is not t
        return await t

    assert asyncio.run(main()) == 3


def test_wait_for_times_out_and_cancels_the_inner_task():
    s = fresh()
    trace = []

    async def slow():
        try:
            await asyncio.sleep(10)
        finally:
            trace.append("inner finally")

    async def main():
        try:
            await asyncio.wait_for(slow(), 0.5)
        except asyncio.TimeoutError:
            trace.append("timeout at %d" % s.uptime_ms())
        return await asyncio.wait_for_ms(asyncio.sleep_ms(5), 100)

    assert asyncio.run(main()) is None
    assert trace == ["inner finally", "timeout at 500"]


def test_wait_for_returns_result_in_time():
    fresh()

    async def quick():
        await asyncio.sleep_ms(10)
        return 9

    async def main():
        return await asyncio.wait_for(quick(), 1)

    assert asyncio.run(main()) == 9


def test_gather_results_in_order_and_return_exceptions():
    fresh()

    async def v(ms, x):
        await asyncio.sleep_ms(ms)
        return x

    async def bad():
        raise ValueError("b")

    async def main():
        a = await asyncio.gather(v(30, 1), v(10, 2), v(20, 3))
        b = await asyncio.gather(v(1, 1), bad(), return_exceptions=True)
        try:
            await asyncio.gather(bad(), v(1, 1))
            c = None
        except ValueError:
            c = "raised"
        return a, b[0], type(b[1]).__name__, c

    assert asyncio.run(main()) == ([1, 2, 3], 1, "ValueError", "raised")


def test_task_cancel_and_cancelled_error():
    fresh()

    async def forever():
        await asyncio.sleep(1000)

    async def main():
        t = asyncio.create_task(forever())
        await asyncio.sleep(0)
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            return "cancelled"

    assert asyncio.run(main()) == "cancelled"


def test_event_lock_queue_names():
    fresh()

    async def main():
        ev = asyncio.Event()
        lock = asyncio.Lock()
        q = asyncio.Queue()

        async def prod():
            async with lock:
                await q.put(1)
            ev.set()

        asyncio.create_task(prod())
        await ev.wait()
        return await q.get()

    assert asyncio.run(main()) == 1


def test_run_from_a_service_task_raises_runtime_error():
    s = fresh()

    async def svc():
        asyncio.run(asyncio.sleep(1))

    t = s.spawn(svc())
    s.run_until(t)
    assert isinstance(t.exc, RuntimeError)


def test_run_from_foreground_nests_and_others_keep_running():
    # As `py asyncio.run(asyncio.sleep(1))` in the shell: a heartbeat keeps beating.
    s = fresh()
    beats = [0]

    async def heartbeat():
        while True:
            beats[0] += 1
            await asyncio.sleep_ms(100)

    async def shell():
        b = beats[0]
        asyncio.run(asyncio.sleep(1))  # the trap's argument is copied before others run
        return beats[0] - b, s.uptime_ms()

    s.spawn(heartbeat())
    sh = s.spawn(shell(), budget_ms=0)
    s.set_foreground(sh, True)
    s.run_until(sh)
    beats_during, up = sh.result()
    assert 9 <= beats_during <= 11
    assert 1000 <= up < 1100


def test_ctrl_c_during_nested_run_reaches_the_foreground_only():
    # `py asyncio.run(asyncio.sleep(60))`, then Ctrl-C at 300 ms: the foreground gets
    # KeyboardInterrupt, its coroutine is cancelled, the service stepping meanwhile is not hit.
    clock = VirtualClock(0, 0)
    s = kernel.reset(clock)
    beats = [0]
    cancelled = []

    async def service():
        while True:
            beats[0] += 1
            if beats[0] == 3:
                clock.type(b"\x03")  # arrives while this service steps
            await asyncio.sleep_ms(100)

    async def long():
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def shell():
        try:
            asyncio.run(long())
        except KeyboardInterrupt:
            return "interrupted", s.uptime_ms()
        return "finished", s.uptime_ms()

    svc = s.spawn(service())
    sh = s.spawn(shell(), budget_ms=0)
    s.set_foreground(sh, True)
    s.run_until(sh)
    what, up = sh.result()
    assert what == "interrupted" and up < 1000, (what, up)
    assert clock.console_read(8) == b"\x03"  # left for the shell, as a line-clearing byte
    b = beats[0]

    async def later():
        await asyncio.sleep_ms(250)

    s.run_until(s.spawn(later()))
    assert svc.state_name() != "failed" and beats[0] >= b + 2, (svc.state_name(), beats)
    assert cancelled == [True]


def test_get_event_loop_minimal():
    fresh()
    loop = asyncio.get_event_loop()

    async def main():
        return 4

    assert loop.run_until_complete(main()) == 4


def test_install_makes_import_asyncio_the_kernels():
    import sys

    prev = sys.modules.get("asyncio")
    try:
        asyncio.install()
        import asyncio as a

        assert a is asyncio
    finally:
        if prev is None:
            del sys.modules["asyncio"]
        else:
            sys.modules["asyncio"] = prev


def test_scheduler_is_reset_between_runs():
    assert isinstance(fresh(), Scheduler)


def test_wait_for_an_event_wait_returns_true_even_if_set_before_it_runs():
    fresh()

    async def main():
        ev = asyncio.Event()

        async def setter():
            await asyncio.sleep_ms(10)
            ev.set()

        asyncio.create_task(setter())
        a = await asyncio.wait_for(ev.wait(), 1)
        ev2 = asyncio.Event()
        w = ev2.wait()  # the awaitable is made, then the event is set before it runs
        ev2.set()
        b = await asyncio.wait_for_ms(w, 50)
        return a, b

    assert asyncio.run(main()) == (True, True)


def test_sleep_zero_is_the_yield_trap_and_sleep_rounds_up_to_ms():
    # asyncio.sleep(0) must reach the kernel's inline yield (the C step requeues it without
    # leaving C), and a positive sleep the sleep trap with whole milliseconds, rounded up.
    from kernel import traps

    assert asyncio.sleep(0) is traps.yield_
    assert asyncio.sleep(0.0) is traps.yield_
    assert asyncio.sleep(-1) is traps.yield_
    assert asyncio.sleep_ms(0) is traps.yield_
    assert asyncio.sleep_ms(-5) is traps.yield_
    for t, ms in ((0.0015, 2), (1, 1000), (0.25, 250)):
        trap = asyncio.sleep(t)
        assert trap is traps.sleep_ms and trap.arg == ms, (t, trap.arg)
    trap = asyncio.sleep_ms(7)
    assert trap is traps.sleep_ms and trap.arg == 7
    traps.yield_.armed = traps.sleep_ms.armed = False  # armed above, never awaited


def test_asyncio_switches_allocate_nothing():
    # The asyncio API's switches (sleep(0), sleep_ms(0), sleep(float), sleep_ms(1)) under
    # micropython.heap_lock(), on the HAL's clock (C step, C watchdog) where the build has it:
    # any allocation raises MemoryError and fails a task.
    import micropython

    try:
        from kernel.clock import HalClock

        clock = HalClock()
    except ImportError:
        clock = VirtualClock(0, 0)
    s = kernel.reset(clock)

    async def w():
        while True:
            await asyncio.sleep(0)
            await asyncio.sleep_ms(0)
            await asyncio.sleep(0.0)
            await asyncio.sleep_ms(1)  # through the sleep heap and back

    ts = [asyncio.create_task(w()) for _ in range(10)]

    def all_ready():
        for t in ts:
            if t.state != 0:  # READY
                return False
        return True

    def cycle():
        for _ in range(4):
            s._run_ready(None, 1)
        while not all_ready():
            s._wake_due(clock.ticks_ms())
            if not all_ready():
                clock.idle(1)

    for _ in range(3):  # warm up: first steps and sleeps grow dicts once
        cycle()
    before = [t.steps for t in ts]
    micropython.heap_lock()
    try:
        for _ in range(50):
            cycle()
    finally:
        micropython.heap_unlock()
    assert [t.steps - b for t, b in zip(ts, before)] == [200] * 10, [(t, t.exc) for t in ts]
    for t in ts:
        t.cancel()


# ---- MicroPython's asyncio semantics (its tests/extmod/asyncio_*.py, make conformance) ----


def test_cancel_passes_on_to_the_awaited_task_and_self_cancel_is_refused():
    fresh()
    trace = []

    async def inner():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace.append("inner cancel")  # swallowed: the awaiter goes on with None
        return "inner done"

    async def outer():
        r = await asyncio.create_task(inner())
        trace.append("outer got %s" % r)

    async def selfish():
        asyncio.current_task().cancel()

    async def main():
        t = asyncio.create_task(outer())
        await asyncio.sleep_ms(10)
        assert t.cancel()
        await asyncio.sleep_ms(10)
        try:
            await asyncio.create_task(selfish())
        except RuntimeError as e:
            trace.append(str(e))

    asyncio.run(main())
    assert trace == ["inner cancel", "outer got inner done", "can't cancel self"], trace


def test_gather_raises_the_first_failure_at_once_and_leaves_the_others_running():
    fresh()

    async def forever():
        while True:
            await asyncio.sleep_ms(100)

    async def bad():
        await asyncio.sleep_ms(10)
        raise ValueError(2)

    async def main():
        ts = [asyncio.create_task(forever()), asyncio.create_task(bad())]
        try:
            await asyncio.gather(*ts)
        except ValueError as e:
            r = repr(e)
        done = (ts[0].done(), ts[1].done())
        ts[0].cancel()
        return r, done

    assert asyncio.run(main()) == ("ValueError(2,)", (False, True))


def test_gather_cancelled_cancels_its_tasks_and_gathered_tasks_cannot_be_awaited():
    fresh()
    trace = []

    async def sub(i):
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace.append("sub %d cancelled" % i)
            raise

    async def gatherer(ts):
        await asyncio.gather(*ts)

    async def main():
        ts = [asyncio.create_task(sub(1)), asyncio.create_task(sub(2))]
        g = asyncio.create_task(gatherer(ts))
        await asyncio.sleep_ms(10)
        try:
            await ts[0]
        except RuntimeError as e:
            trace.append(str(e))
        g.cancel()
        try:
            await g
        except asyncio.CancelledError:
            trace.append("gather cancelled")
        t = asyncio.create_task(sub(3))
        w = asyncio.create_task(gatherer([t]))  # gathers t ...
        await asyncio.sleep_ms(10)
        try:
            await asyncio.gather(t)  # ... so it cannot be gathered twice
        except RuntimeError as e:
            trace.append(str(e))
        w.cancel()
        await asyncio.sleep_ms(10)
        return [x.done() for x in ts]

    assert asyncio.run(main()) == [True, True]
    assert trace == [
        "can't wait",
        "sub 1 cancelled",
        "sub 2 cancelled",
        "gather cancelled",
        "can't gather",
        "sub 3 cancelled",
    ], trace


def test_gather_of_tasks_that_ended_before_it():
    fresh()

    async def val(x):
        return x

    async def bad():
        raise ValueError("b")

    async def main():
        asyncio.get_event_loop().set_exception_handler(lambda loop, ctx: None)
        ts = [asyncio.create_task(val(1)), asyncio.create_task(bad())]
        await asyncio.sleep(0)
        a = await asyncio.gather(*ts, return_exceptions=True)
        try:
            await asyncio.gather(*ts)
        except ValueError:
            return a[0], type(a[1]).__name__, "raised"

    assert asyncio.run(main()) == (1, "ValueError", "raised")


def test_a_failure_nobody_awaits_goes_to_the_exception_handler_one_step_later():
    fresh()
    seen = []

    async def bad(i):
        raise ValueError(i)

    async def main():
        loop = asyncio.get_event_loop()
        assert loop.get_exception_handler() is None
        loop.set_exception_handler(lambda lp, ctx: seen.append((lp is loop, ctx["exception"])))
        asyncio.create_task(bad(0))
        await asyncio.sleep(0)  # bad(0) fails in this round ...
        assert seen == []
        await asyncio.sleep(0)  # ... and is reported in the next
        t = asyncio.create_task(bad(1))
        await asyncio.sleep(0)
        try:
            await t  # taken before the report: not reported
        except ValueError:
            pass
        await asyncio.sleep(0)
        loop.set_exception_handler(None)

    asyncio.run(main())
    assert [(a, repr(e)) for a, e in seen] == [(True, "ValueError(0,)")], seen


def test_run_forever_runs_until_stop_and_never_stops_the_kernel():
    # loop.stop() in a nested run_forever at the console ends that loop only: the shell
    # task (the foreground) goes on, and so does the kernel.
    s = fresh()
    trace = []

    async def job(loop):
        trace.append("job")
        loop.stop()
        loop.stop()  # a second stop does nothing
        await asyncio.sleep(0)
        trace.append("job again")
        loop.stop()

    async def shell():
        loop = asyncio.new_event_loop()
        loop.create_task(job(loop))
        loop.run_forever()
        trace.append("stopped 1")
        loop.run_forever()
        trace.append("stopped 2")
        return "shell done"

    sh = s.spawn(shell(), budget_ms=0)
    s.set_foreground(sh, True)
    s.run_until(sh)
    assert sh.result() == "shell done"
    assert trace == ["job", "stopped 1", "job again", "stopped 2"], trace


def test_new_event_loop_ends_the_consoles_asyncio_tasks_of_the_old_loop():
    s = fresh()
    trace = []

    async def ticker():
        while True:
            trace.append("tick")
            await asyncio.sleep(0)

    async def service():
        while True:
            await asyncio.sleep_ms(10)

    async def shell():
        loop = asyncio.get_event_loop()
        t = loop.create_task(ticker())
        asyncio.run(asyncio.sleep(0))
        n = len(trace)
        asyncio.new_event_loop()
        asyncio.run(asyncio.sleep_ms(5))
        return n, len(trace), t.state_name()

    svc = s.spawn(service())
    svc.quiet = True  # a service's task: never touched
    sh = s.spawn(shell(), budget_ms=0)
    s.set_foreground(sh, True)
    s.run_until(sh)
    n, after, state = sh.result()
    assert n >= 1 and after == n and state == "cancelled", (n, after, state)
    assert svc.state_name() == "sleeping"


def test_current_task_outside_any_asyncio_task_raises():
    s = fresh()

    async def shell():
        try:
            asyncio.current_task()
        except RuntimeError:
            return "RuntimeError"

    sh = s.spawn(shell(), budget_ms=0)
    s.set_foreground(sh, True)
    s.run_until(sh)
    assert sh.result() == "RuntimeError"
    try:
        asyncio.current_task()
        raise AssertionError("no RuntimeError")
    except RuntimeError:
        pass


def test_lock_reads_unlocked_until_the_waiter_it_was_handed_to_runs():
    fresh()
    trace = []

    async def holder(lock):
        async with lock:
            await asyncio.sleep_ms(10)
        trace.append(lock.locked())  # handed to the waiter, which has not run yet
        await lock.acquire()  # waits behind that waiter
        trace.append("holder again")
        lock.release()

    async def main():
        lock = asyncio.Lock()
        asyncio.create_task(holder(lock))
        await asyncio.sleep(0)
        async with lock:
            trace.append("main has it")
        await asyncio.sleep_ms(10)
        try:
            lock.release()
        except RuntimeError as e:
            trace.append(str(e))

    asyncio.run(main())
    assert trace == [False, "main has it", "holder again", "Lock not acquired"], trace


def test_sleep_ms_past_half_the_ticks_period_overflows():
    from kernel import params

    for f, t in ((asyncio.sleep_ms, params.TICKS_PERIOD // 2), (asyncio.sleep, 1 << 20)):
        try:
            f(t)
            raise AssertionError("no OverflowError for %r" % t)
        except OverflowError:
            pass
    trap = asyncio.sleep_ms(params.TICKS_PERIOD // 2 - 1)
    trap.armed = False


def test_wait_for_cancelled_from_outside_cancels_the_inner_task():
    fresh()
    trace = []

    async def inner():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace.append("inner cancelled")
            raise

    async def waiter():
        try:
            await asyncio.wait_for(inner(), 2)
        except asyncio.CancelledError:
            trace.append("wait_for cancelled")
            raise

    async def main():
        t = asyncio.create_task(waiter())
        await asyncio.sleep_ms(10)
        t.cancel()
        await asyncio.sleep_ms(10)
        return t.state_name()

    assert asyncio.run(main()) == "cancelled"
    assert sorted(trace) == ["inner cancelled", "wait_for cancelled"], trace


def test_first_sleep_and_switches_under_heap_lock_allocate_nothing():
    # MicroPython's asyncio_heaplock.py: tasks made before heap_lock() then sleep for the
    # first time under it (no Task dict may grow), on the C step where the build has it.
    import micropython

    try:
        from kernel.clock import HalClock

        clock = HalClock()
    except ImportError:
        clock = VirtualClock(0, 0)
    kernel.reset(clock)
    trace = []

    async def task(i):
        for _ in range(2):
            trace.append(i)
            await asyncio.sleep_ms(2)

    async def main():
        asyncio.create_task(task(1))
        asyncio.create_task(task(2))
        micropython.heap_lock()
        try:
            await asyncio.sleep_ms(1)
            await asyncio.sleep_ms(10)
        finally:
            micropython.heap_unlock()
        return "ok"

    assert asyncio.run(main()) == "ok"
    assert trace == [1, 2, 1, 2], trace
