# Tests for kernel/waits: sleeping, parking with timeouts, waking, console waits, traps
# yielded by generator tasks. All on the virtual clock.
from kernel import traps
from kernel.clock import VirtualClock
from kernel.errors import TimeoutError
from kernel.sched import Scheduler
from kernel.task import CANCELLED, DONE, FAILED, WAITING, TaskQueue


def fresh(seed=0, step_us=0):
    return Scheduler(VirtualClock(seed, step_us))


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


def test_bad_yield_fails_the_task_with_type_error():
    s = fresh()

    def g():
        yield 123

    t = s.spawn(g())
    s.run_until(t)
    assert t.state == FAILED and isinstance(t.exc, TypeError)
