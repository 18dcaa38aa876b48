# Tests for kernel/traps: the one door, singleton awaitables (the Python PyTrap and, when the
# build has it, the C twin _ktrap.Trap: both must behave the same).
import micropython
import mpunit

import kernel
import kernel.asyncio as asyncio  # noqa: PLR0402 - not through kernel.__getattr__
from kernel import traps
from kernel.clock import VirtualClock
from kernel.sched import Scheduler
from kernel.task import DONE, FAILED


def kinds():
    out = [traps.PyTrap]
    if traps.NATIVE:
        out.append(traps.Trap)
    return out


def kinds3():
    """(Trap class, armed, disarm) for the Python trap and, when built, the C twin."""
    out = [(traps.PyTrap, traps.py_armed, traps.py_disarm)]
    if traps.NATIVE:
        out.append((traps.Trap, traps.armed, traps.disarm))
    return out


def drive(aw):
    # Await aw in a coroutine; return (what it yielded to the scheduler, the await's value).
    async def f():
        return await aw

    c = f()
    try:
        y = c.send(None)
    except StopIteration as e:
        return None, e.value
    try:
        c.send(None)
    except StopIteration as e:
        return y, e.value
    raise AssertionError("awaited twice")


def test_hot_traps_are_singletons():
    assert traps.yield_() is traps.yield_()
    assert traps.sleep_ms(5) is traps.sleep_ms(7)
    assert traps.wait_console() is traps.wait_console()


def test_trap_carries_code_and_args():
    traps.disarm()  # (the calls below arm the singletons, outside any step)
    t = traps.sleep_ms(12)
    assert t.code == traps.SLEEP and t.arg == 12
    assert traps.sleep_us(1001).arg == 2
    assert traps.sleep_us(0).arg == 0
    assert traps.sleep(1.5).arg == 1500
    q = object()
    p = traps.park(q, 30)
    assert p.code == traps.PARK and p.arg is q and p.arg2 == 30
    assert traps.park(q).arg2 == -1


def test_called_trap_yields_itself_once_then_completes_with_value():
    for Trap in kinds():
        t = Trap(traps.PARK, "v")
        assert drive(t("a", 3)) == (t, "v")
        assert t.arg == "a" and t.arg2 == 3 and not t.armed
        assert drive(t()) == (t, "v")  # a bare call arms it and keeps the arguments
        assert t.arg == "a"


def test_uncalled_trap_completes_at_once():
    for Trap in kinds():
        assert drive(Trap(traps.READY, True)) == (None, True)
    assert drive(traps.READY_TRUE) == (None, True)
    assert drive(traps.READY_NONE) == (None, None)


def test_await_allocates_nothing():
    import gc

    for Trap in kinds():
        t = Trap(traps.YIELD)

        async def w(t=t):
            while True:
                await t()

        cs = [w() for _ in range(10)]
        for c in cs:
            c.send(None)
        gc.collect()
        gc.disable()
        try:
            a0 = gc.mem_alloc()
            for _ in range(100):
                for c in cs:
                    c.send(None)
            grown = gc.mem_alloc() - a0
        finally:
            gc.enable()
        assert grown < 64, "%s: %d bytes for 1000 awaits" % (Trap, grown)


def test_trap_refuses_bad_calls():
    for Trap in kinds():
        t = Trap(traps.SLEEP)
        try:
            t(1, 2, 3)
            assert False, "3 arguments accepted"
        except TypeError:
            pass


def test_trap_codes_index_names():
    assert traps.TRAP_NAMES[traps.YIELD] == "yield"
    assert traps.TRAP_NAMES[traps.CONSOLE] == "console"


def test_arms_are_counted_and_disarm_drops_them_all():
    for Trap, armed, disarm in kinds3():
        disarm()
        a = Trap(traps.SLEEP)
        b = Trap(traps.PARK)
        assert armed() == 0
        a(5)
        a(6)  # a second call re-arms, not a second arm
        b("q")
        assert armed() == 2 and a.armed and b.armed
        assert drive(a) == (a, None)  # yielded: disarmed
        assert armed() == 1
        assert disarm() == 1
        assert armed() == 0 and not b.armed
        assert drive(b) == (None, None)  # a dropped arm completes at once: a resume
        b.armed = True
        assert armed() == 1
        b.armed = False
        assert armed() == 0 and not b.armed


def test_stale_arm_is_harmless_python_path():
    stale_arm_case(VirtualClock(), c_step=False)


def test_stale_arm_is_harmless_c_step_real():
    mpunit.need("_hal", "_ksched")
    from kernel.clock import HalClock

    stale_arm_case(HalClock(), c_step=True)


def test_stale_arm_is_harmless_python_path_real_clock():
    mpunit.need("_hal")
    from kernel.clock import HalClock

    stale_arm_case(HalClock(), c_step=False)


def stale_arm_case(clock, c_step):
    # Exactly the case: a service calls kernel.sleep_ms(100000) and forgets the
    # await; a ticker that awaits sleep_ms(5) must go on ticking (it resumes inside an await
    # of the same singleton), and the offender is told: RuntimeError at its next await.
    s = Scheduler(clock)
    if not c_step:
        s._step = None
    assert (s._step is not None) == c_step
    ticks = []

    async def ticker():
        for _ in range(4):
            await kernel.sleep_ms(5)
            ticks.append(s.uptime_ms())

    async def forgetful():
        kernel.sleep_ms(100000)  # no await: the trap stays armed past this step
        await kernel.yield_()
        await kernel.sleep_ms(1)
        return "not told"

    async def spawner():
        try:
            kernel.spawn(asyncio.sleep_ms(100000), "oops")  # TypeError: a trap is no coroutine
        except TypeError as e:
            assert "await" in str(e), e
        await kernel.sleep_ms(1)
        return "went on"

    async def guard():
        await kernel.sleep_ms(3000)
        s.stop()  # the bug would leave the ticker asleep for 100 s: stop instead of hanging

    tk = s.spawn(ticker(), "ticker")
    bad = s.spawn(forgetful(), "forgetful")
    bad.quiet = True  # a service's task (services are told by an exception)
    sp = s.spawn(spawner(), "spawner")
    gd = s.spawn(guard(), "guard")
    s.run_until(tk)
    assert tk.done() and len(ticks) == 4, (ticks, tk)
    assert ticks[-1] < 1000, ticks  # 4 x 5 ms, not 100 s
    assert bad.state == FAILED and isinstance(bad.exc, RuntimeError), (bad, bad.exc)
    assert str(bad.exc) == (
        "task forgetful called sleep_ms(100000) without await: the call was dropped (await it)"
    ), str(bad.exc)
    assert sp.result() == "went on"
    assert traps.armed() == 0
    gd.cancel()
    s.run_until(gd)
    assert any("forgetful called sleep_ms(100000)" in ln for ln in s.log.lines()), s.log.lines()


def test_stale_arm_of_a_plain_task_is_logged_and_dropped():
    s = Scheduler(VirtualClock())

    async def sleeper():
        await kernel.sleep_ms(10)
        return s.uptime_ms()

    async def careless():
        kernel.sleep_ms(50000)
        await kernel.yield_()
        return "ran on"

    a = s.spawn(sleeper())
    b = s.spawn(careless(), "careless")
    s.run_until(a)
    s.run_until(b)
    assert a.result() < 1000 and b.result() == "ran on"  # not quiet: only logged
    assert any("careless called sleep_ms(50000)" in ln for ln in s.log.lines())


def test_a_task_that_ends_with_a_trap_armed_harms_no_one():
    for clock, c_step in clocks():
        ends_armed_case(clock, c_step)


def ends_armed_case(clock, c_step):
    s = Scheduler(clock)
    if not c_step:
        s._step = None

    async def sleeper():
        await kernel.sleep_ms(10)
        return s.uptime_ms()

    async def ends_armed():
        kernel.sleep_ms(100000)

    a = s.spawn(sleeper())
    s.spawn(ends_armed(), "ends-armed")
    s.run_until(a)
    assert a.result() < 1000, (c_step, a.result())
    assert traps.armed() == 0


def test_asyncio_wrappers_take_a_traps_arguments_and_leave_it_unarmed():
    s = Scheduler(VirtualClock())
    ev = kernel.Event()

    async def main():
        t = asyncio.create_task(asyncio.sleep_ms(20))  # CPython code does this with sleep
        w = asyncio.create_task(asyncio.wait_for(ev.wait(), 1))
        assert traps.armed() == 0
        await t
        ev.set()
        return (await w, s.uptime_ms())

    m = s.spawn(main())
    s.run_until(m)
    assert m.result()[0] is True and 20 <= m.result()[1] < 1000, m.result()
    assert m.state == DONE


def test_stale_arm_under_heap_lock():
    # The check runs after every step and the drop allocates nothing: under heap_lock the
    # stale arm is still dropped (the log line, which allocates, is skipped) and the
    # ticker keeps its times.
    for clock, c_step in clocks():
        heap_lock_case(clock, c_step)


def heap_lock_case(clock, c_step):
    s = Scheduler(clock)
    if not c_step:
        s._step = None
    ticks = [0, 0, 0, 0]
    n = [0]

    async def ticker():
        while True:
            await kernel.sleep_ms(2)
            ticks[n[0] & 3] = s.uptime_ms()
            n[0] += 1

    async def forgetful():
        while True:
            kernel.sleep_ms(100000)
            await kernel.yield_()

    # No step watchdog: a loaded host can stretch a real-clock step past its budget,
    # and dropping a task allocates (not what this test is about).
    tk = s.spawn(ticker(), "ticker", 0)
    s.spawn(forgetful(), "forgetful", 0)
    for _ in range(40):  # warm up: first steps, dict growth, the log's first lines
        s._run_ready(None, 1)
        s._wake_due(clock.ticks_ms())
        clock.idle(1)
    before = n[0]
    micropython.heap_lock()
    try:
        for _ in range(40):
            s._run_ready(None, 1)
            s._wake_due(clock.ticks_ms())
            clock.idle(1)
    finally:
        micropython.heap_unlock()
    assert n[0] - before >= 10, (c_step, n[0] - before)  # it kept ticking (2 ms sleeps)
    assert tk.state != FAILED and traps.armed() == 0


def clocks():
    """(clock, c_step) for the Python path on the virtual clock, and on the HAL's clock both
    paths when the build has them."""
    out = [(VirtualClock(), False)]
    try:
        import _ksched  # noqa: F401

        from kernel.clock import HalClock
    except ImportError:
        return out
    return out + [(HalClock(), True), (HalClock(), False)]
