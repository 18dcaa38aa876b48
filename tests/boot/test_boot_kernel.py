# Boot tests of the kernel on the real firmware: nested asyncio.run at the console, Ctrl-C
# routing, and the watchdog for a task that never yields.
import re
import time

import pytest
from console import Console

BEATS = "py __import__('services.heartbeat').heartbeat.beats"


def test_heartbeat_advances_during_console_asyncio_run(console):
    console.boot()
    # `import asyncio` is the kernel's asyncio-compatible module on the firmware.
    assert console.cmd("py import asyncio; print(asyncio is kernel.asyncio)") == ["True"]
    before = int(console.cmd(BEATS)[-1])
    t = time.monotonic()
    assert console.cmd("py asyncio.run(asyncio.sleep(2))") == []
    took = time.monotonic() - t
    after = int(console.cmd(BEATS)[-1])
    assert took >= 2.0, took
    assert after - before >= 2, (before, after)
    assert console.poweroff() == 0


def test_ctrl_c_stops_console_asyncio_run_not_the_services(console):
    console.boot()
    console.send("py asyncio.run(asyncio.sleep(60))\r")
    time.sleep(1.5)
    console.send("\x03")
    console.expect("KeyboardInterrupt")
    console.expect("multios> ")
    before = int(console.cmd(BEATS)[-1])
    time.sleep(1.2)
    assert int(console.cmd(BEATS)[-1]) > before
    ps = console.cmd("ps")
    assert not any(re.search(r"\bheartbeat\b.*\bfailed\b", row) for row in ps), ps
    assert console.poweroff() == 0


@pytest.fixture
def icount_console(board, request):
    """A console whose guest time follows the instructions executed (QEMU -icount), so
    the guest's own CPU accounting does not stretch when the host deschedules QEMU."""
    c = Console(board, request.node.name, extra_args=["-icount", "shift=4,sleep=off"])
    yield c
    c.close()


def test_watchdog_stops_a_task_that_never_yields(icount_console):
    console = icount_console
    console.boot()
    console.cmd("py exec('async def spin():\\n    while True:\\n        pass')")
    console.cmd("py t = kernel.spawn(spin(), 'spinner')")
    start = time.monotonic()
    assert console.cmd("echo alive") == ["alive"]
    # A spinner the watchdog missed would hold the CPU for ever; host load (QEMU descheduled)
    # adds hundreds of ms of wall clock, so the exact bound is read in guest time below,
    # which -icount makes a function of the guest's instructions alone.
    answered = time.monotonic() - start
    assert answered < 3.0, answered
    rows = [r for r in console.cmd("ps") if "spinner" in r]
    assert rows and "failed" in rows[0] and "watchdog" in rows[0], rows
    assert console.cmd("py t.reason") == ["'watchdog'"]
    # The guest's own accounting: the spinner ran its 200 ms budget and was stopped within
    # 100 ms of it.
    cpu_ms = int(console.cmd("py t.cpu_ms()")[-1])
    assert 200 <= cpu_ms < 300, cpu_ms
    assert console.poweroff() == 0


def test_a_task_that_exhausts_the_heap_fails_alone(console):
    console.boot()
    console.cmd(
        "py exec('async def hog():\\n    xs = []\\n    while True:\\n"
        "        xs.append(bytearray(65536))\\n        await kernel.yield_()')"
    )
    console.cmd("py t = kernel.spawn(hog(), 'hog')")
    deadline = time.monotonic() + 20
    while console.cmd("py t.state_name()") != ["'failed'"]:
        assert time.monotonic() < deadline, "the hog never failed"
        time.sleep(0.2)
    assert console.cmd("py t.reason") == ["'memory'"]
    assert console.cmd("py type(t.exc).__name__") == ["'MemoryError'"]
    # Its memory is back, the services run on, the shell answers.
    free = "\n".join(console.cmd("free"))
    assert int(re.search(r"heap:\s+(\d+)\s+(\d+)\s+(\d+)", free).group(3)) > 4 * 1024 * 1024
    before = int(console.cmd(BEATS)[-1])
    time.sleep(1.2)
    assert int(console.cmd(BEATS)[-1]) > before
    assert console.poweroff() == 0
