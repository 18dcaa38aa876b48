# Tests for kernel/sync: Event, Lock, Semaphore, Queue (async tests run on the virtual clock).
import kernel
from kernel import traps
from kernel.clock import VirtualClock
from kernel.errors import CancelledError, QueueEmpty, QueueFull
from kernel.sched import Scheduler
from kernel.sync import Event, Lock, Queue, Semaphore
from kernel.task import WAITING


def run(main, seed=0):
    s = Scheduler(VirtualClock(seed, 0))
    t = s.spawn(main(s))
    s.run_until(t)
    return t.result()


def test_event_wakes_all_waiters_in_order():
    async def main(s):
        ev = Event()
        woke = []

        async def waiter(n):
            r = await ev.wait()
            woke.append((n, r))

        ws = [s.spawn(waiter(n)) for n in range(3)]
        await traps.sleep_ms(10)
        assert woke == [] and all(w.state == WAITING for w in ws)
        ev.set()
        await traps.yield_()
        return woke

    assert run(main) == [(0, True), (1, True), (2, True)]


def test_event_wait_when_set_does_not_block_or_allocate_a_task_switch():
    async def main(s):
        ev = Event()
        ev.set()
        me = s.cur
        steps = me.steps
        assert (await ev.wait()) is True
        assert me.steps == steps  # did not leave the step
        ev.clear()
        assert not ev.is_set()
        return True

    assert run(main)


def test_lock_is_fifo_and_exclusive():
    async def main(s):
        lock = Lock()
        inside = []
        order = []

        async def user(n):
            async with lock:
                inside.append(n)
                assert len(inside) == 1
                order.append(n)
                await traps.sleep_ms(5)
                inside.remove(n)

        us = [s.spawn(user(n)) for n in range(4)]
        for u in us:
            await u
        assert not lock.locked()
        return order

    assert run(main) == [0, 1, 2, 3]


def test_lock_handed_to_a_cancelled_waiter_is_passed_on():
    async def main(s):
        lock = Lock()
        got = []

        async def user(n):
            await lock.acquire()
            got.append(n)
            lock.release()

        await lock.acquire()
        a = s.spawn(user("a"))
        b = s.spawn(user("b"))
        await traps.yield_()
        lock.release()  # handed to a, which has not run yet
        a.cancel()
        await traps.yield_()
        await traps.yield_()
        await b
        return got, lock.locked()

    assert run(main) == (["b"], False)


def test_release_unlocked_lock_raises():
    try:
        Lock().release()
        assert False
    except RuntimeError:
        pass


def test_semaphore_limits_concurrency():
    async def main(s):
        sem = Semaphore(2)
        now = [0]
        peak = [0]

        async def user():
            async with sem:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
                await traps.sleep_ms(3)
                now[0] -= 1

        us = [s.spawn(user()) for _ in range(6)]
        for u in us:
            await u
        return peak[0], sem.value

    assert run(main) == (2, 2)


def test_queue_bounded_nowait_errors():
    q = Queue(2)
    q.put_nowait(1)
    q.put_nowait(2)
    assert q.full() and q.qsize() == 2
    try:
        q.put_nowait(3)
        assert False
    except QueueFull:
        pass
    assert q.get_nowait() == 1
    assert q.get_nowait() == 2
    assert q.empty()
    try:
        q.get_nowait()
        assert False
    except QueueEmpty:
        pass


def test_queue_put_waits_for_room_and_get_for_items():
    async def main(s):
        q = Queue(1)
        log = []

        async def producer():
            for i in range(4):
                await q.put(i)
                log.append("put%d" % i)

        async def consumer():
            out = []
            for _ in range(4):
                await traps.sleep_ms(10)
                out.append(await q.get())
            return out

        p = s.spawn(producer())
        c = s.spawn(consumer())
        out = await c
        await p
        return out, log

    out, log = run(main)
    assert out == [0, 1, 2, 3]
    assert log == ["put0", "put1", "put2", "put3"]


def test_queue_unbounded_by_default():
    q = Queue()
    for i in range(100):
        q.put_nowait(i)
    assert not q.full()
    assert q.qsize() == 100


def test_cancelled_getter_does_not_strand_an_item():
    async def main(s):
        q = Queue()

        async def getter():
            return await q.get()

        g1 = s.spawn(getter())
        g2 = s.spawn(getter())
        await traps.yield_()
        q.put_nowait("x")  # wakes g1
        g1.cancel()
        try:
            await g1
        except CancelledError:
            pass
        return await g2

    assert run(main) == "x"


def test_kernel_exports_sync_types():
    assert kernel.Event is Event and kernel.Queue is Queue


def test_thread_safe_flag_set_by_a_soft_interrupt_wakes_its_waiter():
    import micropython

    from kernel.sync import ThreadSafeFlag

    async def main(s):
        flag = ThreadSafeFlag()
        woke = []

        async def waiter():
            for _ in range(3):
                await flag.wait()
                woke.append(s.uptime_ms())

        w = s.spawn(waiter())
        await traps.sleep_ms(10)
        micropython.schedule(lambda _: flag.set(), None)  # as a HAL irq handler would
        await traps.sleep_ms(10)
        flag.set()  # two sets before the waiter runs count once
        flag.set()
        await traps.sleep_ms(10)
        assert w.state == WAITING and len(woke) == 2
        flag.set()
        await w
        return woke

    woke = run(main)
    assert len(woke) == 3
    assert 10 <= woke[0] < 12 and 20 <= woke[1] < 22 and 30 <= woke[2] < 32


def test_thread_safe_flag_set_before_wait_returns_at_once_and_clears():
    from kernel.sync import ThreadSafeFlag

    async def main(s):
        flag = ThreadSafeFlag()
        flag.set()
        steps = s.cur.steps
        assert (await flag.wait()) is True
        assert s.cur.steps == steps
        assert flag.state is False
        return True

    assert run(main)


def test_thread_safe_flag_wakes_an_idle_kernel():
    from kernel.sync import ThreadSafeFlag

    s = Scheduler(VirtualClock(0, 0))
    flag = ThreadSafeFlag()

    async def waiter():
        await flag.wait()
        return s.uptime_ms()

    async def poster():
        await traps.sleep_ms(40)
        flag.set()

    w = s.spawn(waiter())
    s.spawn(poster())
    s.run_until(w)
    assert w.result() == 40
