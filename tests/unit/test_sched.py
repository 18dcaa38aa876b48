# Tests for kernel/sched: stepping, sleeping, joining, cancelling, failures, accounting,
# the watchdog, MemoryError, nested runs. All on the virtual clock unless named "real".
import micropython

from kernel import traps
from kernel.clock import VirtualClock
from kernel.errors import CancelledError, KernelPanic, TimeoutError, Watchdog
from kernel.sched import Scheduler
from kernel.task import CANCELLED, DONE, FAILED, READY, SLEEPING, WAITING, TaskQueue


def fresh(seed=0, step_us=0):
    return Scheduler(VirtualClock(seed, step_us))


def test_yield_round_robin_in_spawn_order():
    s = fresh()
    trace = []

    async def w(n):
        for i in range(3):
            trace.append(n)
            await traps.yield_()

    ts = [s.spawn(w(n)) for n in range(3)]
    s.run_until(ts[-1])
    assert trace == [0, 1, 2] * 3
    assert all(t.state == DONE for t in ts)


def test_plain_generators_are_tasks_too():
    s = fresh()
    trace = []

    def g():
        trace.append(1)
        yield
        trace.append(2)
        yield traps.sleep_ms(5)
        return 7

    t = s.spawn(g())
    s.run_until(t)
    assert trace == [1, 2]
    assert t.result() == 7
    assert s.uptime_ms() >= 5


def test_sleep_wakes_in_deadline_order_at_the_right_time():
    s = fresh()
    woke = []

    async def sl(ms):
        await traps.sleep_ms(ms)
        woke.append((ms, s.uptime_ms()))

    ts = [s.spawn(sl(ms)) for ms in (30, 10, 20)]
    s.run_until(ts[0])
    assert [w[0] for w in woke] == [10, 20, 30]
    for ms, at in woke:
        assert ms <= at < ms + 2


def test_sleep_us_rounds_up_and_sleep_zero_yields():
    s = fresh()

    async def f():
        await traps.sleep_us(1)
        a = s.uptime_ms()
        await traps.sleep_ms(0)
        return a

    t = s.spawn(f())
    s.run_until(t)
    assert t.result() == 1


def test_join_returns_result_and_reraises_exception():
    s = fresh()

    async def ok():
        await traps.sleep_ms(3)
        return 42

    async def bad():
        await traps.yield_()
        raise ValueError("boom")

    async def main():
        a = await s.spawn(ok())
        try:
            await s.spawn(bad())
        except ValueError as e:
            return (a, str(e))
        return None

    t = s.spawn(main())
    s.run_until(t)
    assert t.result() == (42, "boom")


def test_failure_kept_on_task_and_reported_once_to_hook():
    s = fresh()
    seen = []
    s.on_failure = seen.append

    async def bad():
        raise KeyError("k")

    t = s.spawn(bad(), "bad")
    s.run_until(t)
    assert t.state == FAILED and t.reason == "exception"
    assert isinstance(t.exc, KeyError)
    assert seen == [t]
    try:
        t.result()
        assert False, "result() should re-raise"
    except KeyError:
        pass
    assert seen == [t]  # reported once only


def test_failure_without_hook_goes_to_the_log():
    s = fresh()

    async def bad():
        raise OSError(5)

    t = s.spawn(bad(), "svc")
    s.run_until(t)
    lines = s.log.lines()
    assert len(lines) == 1
    assert "svc" in lines[0] and "failed" in lines[0] and "exception" in lines[0]


def test_cancel_raises_at_await_point_and_finally_runs():
    s = fresh()
    trace = []

    async def victim():
        try:
            await traps.sleep_ms(10000)
            trace.append("woke")
        finally:
            trace.append("finally")

    async def main():
        v = s.spawn(victim())
        await traps.sleep_ms(5)
        assert v.state == SLEEPING
        assert v.cancel() is True
        try:
            await v
        except CancelledError:
            trace.append("joined")
        return v

    t = s.spawn(main())
    s.run_until(t)
    v = t.result()
    assert trace == ["finally", "joined"]
    assert v.state == CANCELLED and v.reason == "cancelled"
    assert s.uptime_ms() < 100  # the 10 s sleep was cut short
    assert v.cancel() is False


def test_cancel_a_waiting_task_takes_it_off_its_queue():
    s = fresh()
    q = TaskQueue()

    async def waiter():
        await traps.park(q)

    w = s.spawn(waiter())

    async def main():
        await traps.yield_()
        assert w.state == WAITING and q.head is w
        w.cancel()
        assert q.head is None

    t = s.spawn(main())
    s.run_until(w)
    assert w.state == CANCELLED
    s.run_until(t)
    assert t.state == DONE


def test_kill_cancels_then_second_kill_closes():
    s = fresh()
    trace = []

    async def stubborn():
        while True:
            try:
                await traps.sleep_ms(100)
            except CancelledError:
                trace.append("ignored")

    v = s.spawn(stubborn())

    async def main():
        await traps.yield_()
        assert s.kill(v.id) is True
        await traps.sleep_ms(1)
        assert v.state == SLEEPING  # it swallowed the cancel
        assert s.kill(v.id) is True  # closed now
        assert s.kill(v.id) is False  # gone

    t = s.spawn(main())
    s.run_until(t)
    t.result()
    assert trace == ["ignored"]
    assert v.state == CANCELLED and v.reason == "killed"


def test_park_timeout_raises_timeout_error_and_leaves_queue():
    s = fresh()
    q = TaskQueue()

    async def f():
        try:
            await traps.park(q, 25)
        except TimeoutError:
            return s.uptime_ms()

    t = s.spawn(f())
    s.run_until(t)
    assert 25 <= t.result() < 27
    assert q.head is None


def test_wake_before_timeout_cancels_the_timeout():
    s = fresh()
    q = TaskQueue()

    async def f():
        await traps.park(q, 1000)
        await traps.sleep_ms(2000)  # a stale timeout would hit this sleep
        return "ok"

    async def waker():
        await traps.sleep_ms(10)
        s.wake(q.head)

    t = s.spawn(f())
    s.spawn(waker())
    s.run_until(t)
    assert t.result() == "ok"


def test_idle_time_is_counted_and_skipped():
    s = fresh(step_us=100)

    async def f():
        await traps.sleep_ms(60000)

    t = s.spawn(f())
    s.run_until(t)
    assert 59900 <= s.idle_ms() <= 60000
    assert s.clock.idles >= 1


def test_deadlock_on_virtual_clock_panics_instead_of_hanging():
    s = fresh()
    q = TaskQueue()

    async def f():
        await traps.park(q)

    t = s.spawn(f())
    try:
        s.run_until(t)
        assert False, "should panic"
    except KernelPanic as e:
        assert "deadlock" in str(e)


def test_stop_returns_from_run():
    s = fresh(step_us=50)  # each step costs virtual time, so the stopper's sleep ends
    n = [0]

    async def spin():
        while True:
            n[0] += 1
            await traps.yield_()

    async def stopper():
        await traps.sleep_ms(1)
        s.stop()

    s.spawn(spin())
    s.spawn(stopper())
    s.run()
    assert n[0] > 0


def test_accounting_steps_cpu_and_last_run():
    s = fresh(step_us=50)

    async def f():
        for i in range(9):
            await traps.yield_()

    t = s.spawn(f())
    s.run_until(t)
    assert t.steps == 10
    assert t.cpu_us == 500  # 10 steps x 50 µs of virtual cost, one clock read per switch
    assert t.cpu_ms() == 0


def test_cpu_carry_keeps_totals_small():
    s = fresh()

    async def f():
        s.clock.burn(1 << 28)  # one 268 s step (no watchdog: budget 0)
        await traps.yield_()

    t = s.spawn(f(), budget_ms=0)
    s.run_until(t)
    assert t.cpu_us < 1000000
    assert t.cpu_s == (1 << 28) // 1000000
    assert t.cpu_ms() == (1 << 28) // 1000


def test_alloc_charged_at_least_what_the_task_allocates():
    import gc

    counter = [0]
    s = Scheduler(VirtualClock(step_us=0, alloc_bytes=lambda: counter[0] & ((1 << 30) - 1)))

    async def f():
        counter[0] += 5000  # stands for a C counter of allocated bytes
        await traps.yield_()
        counter[0] += 300
        return 1

    async def other():
        await traps.yield_()

    t = s.spawn(f())
    o = s.spawn(other())
    s.run_until(t)
    assert t.alloc_b == 5300
    assert o.alloc_b == 0
    gc.collect()


def test_alloc_with_hal_counter_real():
    try:
        import hal
    except ImportError:
        return  # no C counter on a stock build
    from kernel.clock import HalClock

    s = Scheduler(HalClock())
    n = 4096

    async def f():
        b = bytearray(n)
        await traps.yield_()
        return len(b)

    t = s.spawn(f(), budget_ms=0)
    s.run_until(t)
    assert t.alloc_b >= n
    assert hal.alloc_bytes() >= 0


def test_switch_loop_allocates_nothing():
    # The hot path under micropython.heap_lock(): any allocation would raise MemoryError
    # (failing a task or escaping from _run_ready). On the unix build with _hal this runs the
    # real clock, the C watchdog (resume) and the C allocation counter.
    try:
        from kernel.clock import HalClock

        clock = HalClock()
    except ImportError:
        clock = VirtualClock()
    s = Scheduler(clock)

    async def w():
        while True:
            await traps.yield_()
            await traps.sleep_ms(0)
            await traps.sleep_ms(1)  # through the sleep heap and back

    ts = [s.spawn(w()) for _ in range(10)]

    def cycle():
        # Three rounds (yield, sleep 0, sleep 1), then wait out the 1 ms and wake them.
        s._run_ready(None, 1)
        s._run_ready(None, 1)
        s._run_ready(None, 1)
        while not all_ready():
            s._wake_due(clock.ticks_ms())
            if not all_ready():
                clock.idle(1)

    def all_ready():
        for t in ts:  # a for over a list allocates nothing
            if t.state != READY:
                return False
        return True

    for _ in range(3):  # warm up: the first steps and sleeps grow dicts once
        cycle()
    before = [t.steps for t in ts]
    a0 = clock.alloc_bytes() if clock.alloc_bytes else 0
    micropython.heap_lock()
    try:
        for _ in range(50):
            cycle()
    finally:
        micropython.heap_unlock()
    a1 = clock.alloc_bytes() if clock.alloc_bytes else 0
    assert [t.steps - b for t, b in zip(ts, before)] == [150] * 10, [(t, t.exc) for t in ts]
    assert all(not t.done() for t in ts)
    assert a1 == a0
    # heap_lock() hides allocations that fail quietly (traceback buffers, frames that fall
    # back to the C stack), so also count with the C counter, heap unlocked: what each
    # step is charged covers the task's step and the scheduler's switch code.
    if clock.alloc_bytes is not None:
        before = [t.alloc_b for t in ts]
        for _ in range(100):
            s._run_ready(None, 1)  # yield and sleep_ms(0) steps (and some sleep 1)
        charged = [t.alloc_b - b for t, b in zip(ts, before)]
        assert charged == [0] * 10, charged


def test_watchdog_exception_fails_task_with_reason_watchdog():
    # Simulates the C watchdog: a resume that raises Watchdog inside a task that spins.
    spinners = []

    def resume(coro, value, budget_ms):
        if budget_ms and coro in spinners:
            return coro.throw(Watchdog())
        return coro.send(value)

    clock = VirtualClock(step_us=0)
    clock.resume = resume
    s = Scheduler(clock)
    seen = []
    s.on_failure = seen.append

    async def spinner():
        await traps.yield_()

    async def fine():
        await traps.sleep_ms(5)
        return "alive"

    sp = spinner()
    spinners.append(sp)
    t1 = s.spawn(sp, "spin")
    t2 = s.spawn(fine())
    s.run_until(t2)
    assert t1.state == FAILED and t1.reason == "watchdog"
    assert t2.result() == "alive"
    assert seen == [t1]


def test_task_that_overruns_its_budget_is_dropped():
    # A step that ran past its budget and came back (e.g. swallowed the Watchdog) is dropped.
    s = fresh()
    trace = []

    async def hog():
        try:
            s.clock.burn(300000)  # 300 ms without yielding, budget 200 ms
            await traps.yield_()
            trace.append("ran on")
        finally:
            trace.append("closed")

    async def fg():
        s.clock.burn(300000)  # foreground code is exempt
        await traps.yield_()
        return "fg ok"

    h = s.spawn(hog(), "hog")
    f = s.spawn(fg(), "fg")
    s.set_foreground(f, True)
    s.run_until(f)
    assert h.state == FAILED and h.reason == "watchdog"
    assert trace == ["closed"]  # dropped: closed, so its finally ran
    assert f.result() == "fg ok"


def test_per_task_budget_overrides_default():
    s = fresh()

    async def slowstep():
        s.clock.burn(300000)
        await traps.yield_()
        return 1

    t = s.spawn(slowstep(), budget_ms=500)
    s.run_until(t)
    assert t.result() == 1


def test_real_watchdog_stops_a_spinning_task():
    try:
        import _hal

        assert _hal.resume
    except (ImportError, AttributeError):
        return  # no C watchdog on this build
    from kernel.clock import HalClock

    s = Scheduler(HalClock())

    async def spin():
        while True:
            pass

    async def swallow():
        try:
            while True:
                pass
        except Watchdog:
            pass
        await traps.yield_()
        return "should not get here"

    async def main():
        await traps.sleep_ms(1)
        return "alive"

    async def spin_in_finally():
        try:
            while True:
                try:
                    while True:
                        pass
                except Watchdog:
                    await traps.yield_()  # swallowed: dropped on return, then closed
        finally:
            while True:  # the close runs this under the watchdog too
                pass

    a = s.spawn(spin(), budget_ms=30)
    b = s.spawn(swallow(), budget_ms=30)
    c = s.spawn(spin_in_finally(), budget_ms=30)
    m = s.spawn(main())
    s.run_until(m)
    assert m.result() == "alive"
    assert c.state == FAILED and c.reason == "watchdog", (c, c.reason, c.exc)
    assert "close raised" in s.log.lines()[-1]
    assert a.state == FAILED and a.reason == "watchdog", (a, a.reason, a.exc)
    assert b.state == FAILED and b.reason == "watchdog", (b, b.reason, b.exc)


def test_memory_error_fails_only_that_task():
    s = fresh()

    async def greedy():
        x = []
        while True:
            x.append(bytearray(1 << 20))
            await traps.yield_()

    async def fine():
        for i in range(3):
            await traps.yield_()
        return "fine"

    g = s.spawn(greedy(), budget_ms=0)
    f = s.spawn(fine())
    s.run_until(g)
    assert g.state == FAILED and g.reason == "memory"
    s.run_until(f)
    assert f.result() == "fine"
    assert s._reserve is not None  # taken again


def test_nested_run_from_foreground_never_steps_caller():
    s = fresh()
    beats = [0]

    async def heartbeat():
        while True:
            beats[0] += 1
            await traps.sleep_ms(10)

    async def inner():
        await traps.sleep_ms(100)
        return "inner"

    async def shell():
        me = s.cur
        before = beats[0]
        steps = me.steps
        r = s.run_nested(s.spawn(inner()))  # as asyncio.run() does from the `py` command
        assert me.steps == steps  # the caller was not stepped meanwhile
        return (r.result(), beats[0] - before)

    s.spawn(heartbeat())
    sh = s.spawn(shell())
    s.set_foreground(sh, True)
    s.run_until(sh)
    r, beats_during = sh.result()
    assert r == "inner"
    assert beats_during >= 9


def test_nested_run_from_a_service_raises():
    s = fresh()

    async def inner():
        return 1

    async def service():
        s.run_nested(s.spawn(inner()))

    t = s.spawn(service())
    s.run_until(t)
    assert t.state == FAILED and isinstance(t.exc, RuntimeError)


def test_wait_console_parks_until_input_without_polling():
    s = fresh()

    async def reader():
        await traps.wait_console()
        return s.clock.console_read(10)

    async def typist():
        await traps.sleep_ms(500)
        s.clock.type(b"ls\r")

    r = s.spawn(reader())
    s.spawn(typist())
    s.run_until(r)
    assert r.result() == b"ls\r"
    assert r.steps == 2  # parked, not polling
    assert 500 <= s.uptime_ms() < 510


def test_bad_yield_fails_the_task_with_type_error():
    s = fresh()

    def g():
        yield 123

    t = s.spawn(g())
    s.run_until(t)
    assert t.state == FAILED and isinstance(t.exc, TypeError)


def _trace_run(seed):
    # A busy little system: 8 tasks sleeping seeded pseudo-random times, 10 simulated minutes.
    s = Scheduler(VirtualClock(seed))
    trace = []
    rng = [seed * 7919 + 1]

    def rand(n):
        rng[0] = (rng[0] * 1103515245 + 12345) & 0x7FFFFFFF
        return rng[0] % n

    async def worker(k):
        while True:
            await traps.sleep_ms(10 + rand(1000))
            trace.append((k, s.uptime_ms()))

    async def main():
        await traps.sleep_ms(600000)
        s.stop()

    for k in range(8):
        s.spawn(worker(k))
    s.spawn(main())
    s.run()
    return trace


def test_same_seed_gives_same_trace_and_ten_minutes_run_fast():
    import time

    t0 = time.ticks_ms()
    a = _trace_run(1)
    b = _trace_run(1)
    c = _trace_run(2)
    dt = time.ticks_diff(time.ticks_ms(), t0)
    assert a == b
    assert a != c
    assert len(a) > 5000  # ~8 tasks x 2 wakes/s x 600 s
    assert a[-1][1] <= 600000
    assert dt < 5000, "3 x 10 simulated minutes took %d ms" % dt


def test_raw_yielded_trap_does_not_make_an_awaiting_task_yield_twice():
    # A generator task may yield a trap without awaiting it; the trap stays armed unless the
    # scheduler disarms it, and a task suspended in an await of that same singleton would
    # then yield again when resumed.
    s = fresh()

    async def co():
        await traps.sleep_ms(1)
        return s.cur.steps  # steps done before this one

    def gen():
        yield traps.sleep_ms(5)

    c = s.spawn(co())
    s.spawn(gen())
    s.run_until(c)
    assert c.result() == 1


def test_kernel_work_in_a_round_is_not_charged_to_the_next_task():
    # Dropping an overrunning task (its close, a slow failure hook) is kernel work done after
    # that task's step was accounted: the task after it must not be charged for it (nor be
    # dropped by the watchdog for it).
    s = fresh()
    s.on_failure = lambda t: s.clock.burn(500000)  # 500 ms in the supervisor

    async def hog():
        s.clock.burn(300000)  # over its 200 ms budget: dropped after this step
        await traps.yield_()

    async def after():
        await traps.yield_()
        return "ok"

    h = s.spawn(hog())
    a = s.spawn(after())
    s.run_until(a)
    assert h.reason == "watchdog"
    assert a.result() == "ok"
    assert a.cpu_us < 1000
