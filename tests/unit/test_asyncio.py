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
