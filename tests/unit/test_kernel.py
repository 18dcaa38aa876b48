# Tests for kernel/__init__: the public API over the default scheduler.
import kernel
from kernel.clock import VirtualClock


def test_spawn_run_stop_and_tasks():
    kernel.reset()
    trace = []

    async def svc():
        trace.append(kernel.current().name)
        await kernel.sleep_ms(100)
        await kernel.sleep_us(1500)
        await kernel.yield_()
        kernel.stop()

    t = kernel.spawn(svc(), name="svc", budget_ms=50)
    assert t in kernel.tasks()
    assert kernel.task(t.id) is t
    kernel.run(VirtualClock(0, 0))
    assert trace == ["svc"]
    assert t.done() and t.reason == "exit"
    assert 102 <= kernel.uptime_ms() < 110
    assert kernel.current() is None


def test_kill_by_id():
    kernel.reset(VirtualClock(0, 0))

    async def forever():
        while True:
            await kernel.sleep_ms(10)

    async def main():
        await kernel.yield_()
        assert kernel.kill(v.id) is True
        assert kernel.kill(99999) is False
        await kernel.sleep_ms(1)
        kernel.stop()

    v = kernel.spawn(forever())
    kernel.spawn(main())
    kernel.run()
    assert v.state_name() == "cancelled" and v.reason == "killed"


def test_log_and_failure_hook():
    kernel.reset(VirtualClock(0, 0))
    kernel.log("hello", "warn")
    kernel.log("x", kernel.ERROR)
    lines = kernel.log_lines()
    assert lines[-2].endswith("warn: hello") and lines[-1].endswith("error: x")
    assert kernel.log_lines(1) == lines[-1:]
    failed = []
    kernel.set_failure_hook(failed.append)

    async def bad():
        raise ValueError()

    async def main():
        t = kernel.spawn(bad())
        try:
            await t
        except ValueError:
            pass
        kernel.stop()
        return t

    m = kernel.spawn(main())
    kernel.run()
    assert failed == [m.result()]


def test_wait_console_and_foreground():
    c = VirtualClock(0, 0)
    kernel.reset(c)

    async def shell():
        kernel.set_foreground(kernel.current(), True)
        assert kernel.current().wd_ms == 0
        await kernel.wait_console()
        kernel.stop()
        return c.console_read(8)

    async def typist():
        await kernel.sleep_ms(250)
        c.type(b"help\r")

    sh = kernel.spawn(shell())
    kernel.spawn(typist())
    kernel.run()
    assert sh.result() == b"help\r"
    assert kernel.idle_ms() >= 240


def test_asyncio_attribute():
    import kernel.asyncio  # noqa: F401

    trap = kernel.asyncio.sleep_ms(5)  # asyncio's sleep_ms arms the kernel's own sleep trap
    assert trap is kernel.sleep_ms and trap.arg == 5
    trap.armed = False


def test_now_ms_is_the_clock():
    c = VirtualClock(0, 0)
    kernel.reset(c)
    c.burn(5000)
    assert kernel.now_ms() == 5


def test_one_deadline_across_several_waits():
    import kernel.asyncio as asyncio  # noqa: PLR0402 - not through kernel.__getattr__

    kernel.reset(VirtualClock(0, 0))
    q = kernel.Queue()
    got = []

    async def producer():
        for i in range(10):
            await kernel.sleep_ms(100)
            q.put_nowait(i)

    async def main():
        d = kernel.deadline(250)  # one budget for all the gets
        while True:
            try:
                item = await asyncio.wait_for_ms(q.get(), kernel.remaining_ms(d))
            except kernel.TimeoutError:
                got.append(("timeout", kernel.uptime_ms()))
                break
            got.append((item, kernel.uptime_ms()))
        kernel.stop()

    kernel.spawn(producer())
    kernel.spawn(main())
    kernel.run()
    assert got == [(0, 100), (1, 200), ("timeout", 250)]
    assert kernel.remaining_ms(kernel.deadline(-5)) == 0


def test_reset_is_refused_while_the_kernel_runs():
    # A script at the console that called kernel.reset() left the console's task on the old
    # scheduler and the API on the new one: the console's next wait took the kernel down.
    s = kernel.reset(VirtualClock(0, 0))
    seen = []

    async def script():
        try:
            kernel.reset(VirtualClock(0, 0))
        except RuntimeError as e:
            seen.append(str(e))
        await kernel.sleep_ms(1)
        seen.append(kernel.scheduler() is s)

    s.run_until(s.spawn(script(), "console"))
    assert seen[0].startswith("kernel.reset: the kernel is running; "), seen
    assert seen[1] is True
    assert kernel.reset(VirtualClock(0, 0)) is not s  # once it has returned: allowed again
